struct Profile {
    plan: String,
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = "u_1", end_user_metadata = profile)]
fn handle(profile: Profile) -> String {
    profile.plan
}

fn main() {
    handle(Profile { plan: "pro".into() });
}
