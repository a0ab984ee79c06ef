// `unsafe fn`, sync (with and without a `Result`) and async: the body keeps
// its unsafe context.

#[neatlogs::span(kind = "TOOL")]
unsafe fn read(p: *const u8) -> u8 {
    *p
}

#[neatlogs::span(kind = "TOOL")]
unsafe fn read_checked(p: *const u8) -> Result<u8, String> {
    if p.is_null() {
        return Err("null".into());
    }
    Ok(*p)
}

#[neatlogs::span(kind = "TOOL")]
async unsafe fn read_async(p: *const u8) -> u8 {
    *p
}

pub struct Buf(Vec<u8>);

impl Buf {
    #[neatlogs::span(kind = "TOOL")]
    pub unsafe fn get_unchecked(&self, i: usize) -> u8 {
        *self.0.get_unchecked(i)
    }
}

fn main() {
    let x = 7u8;
    unsafe {
        assert_eq!(read(&x), 7);
        assert_eq!(read_checked(&x), Ok(7));
        assert!(read_checked(std::ptr::null()).is_err());
        assert_eq!(Buf(vec![1, 2]).get_unchecked(1), 2);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(unsafe { read_async(&x) }), 7);
}
