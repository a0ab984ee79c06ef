#[neatlogs::span(skip)]
fn a(x: u8) -> u8 { x }

#[neatlogs::span(skip())]
fn b(x: u8) -> u8 { x }

#[neatlogs::span(skip_all = true)]
fn c(x: u8) -> u8 { x }

#[neatlogs::span(skip_all, skip(x))]
fn d(x: u8) -> u8 { x }

#[neatlogs::span(skip_output(x))]
fn e(x: u8) -> u8 { x }

fn main() {}
