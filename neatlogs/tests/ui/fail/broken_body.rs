// A syntax error in the body is reported by rustc where it is; the macro
// still expands the function (so `handle` exists for the caller).

#[neatlogs::span(kind = "TOOL")]
fn handle(x: u32) -> u32 {
    let y = x +;
    y
}

fn main() {
    handle(1);
}
