#[neatlogs::span(skip(pasword))]
fn login(user: &str, password: &str) -> bool {
    !user.is_empty() && !password.is_empty()
}

#[neatlogs::span(skip(anything))]
fn no_args() {}

fn main() {
    login("u", "p");
    no_args();
}
