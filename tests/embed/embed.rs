// A Rust program calling Python through libpyffi_embed.so: run code, import a
// module, call functions with native values, read the results, and catch a
// Python exception with its type, message and traceback. The extern "C"
// block mirrors include/pyffi_embed.h (std only: no crate needed).
//   rustc embed.rs $(python -m pyffi flags --rustflags) && ./embed
use std::ffi::CStr;
use std::os::raw::c_char;
use std::process::exit;

type Obj = u64;
type Status = i32; // pyffi_status: PYFFI_OK is 0
const PYFFI_OVERFLOW: Status = 3;
const PYFFI_PYTHON: Status = 9;

extern "C" {
    fn pyffi_embed_run(module: *const c_char, src: *const c_char, len: usize) -> Status;
    fn pyffi_embed_import(out: *mut Obj, name: *const c_char, len: usize) -> Status;
    fn pyffi_embed_getattr(out: *mut Obj, obj: Obj, name: *const c_char, len: usize) -> Status;
    fn pyffi_embed_call(out: *mut Obj, f: Obj, args: *const Obj, nargs: usize, kwargs: Obj)
        -> Status;
    fn pyffi_embed_eval(out: *mut Obj, module: *const c_char, src: *const c_char, len: usize)
        -> Status;
    fn pyffi_embed_int64(out: *mut Obj, v: i64) -> Status;
    fn pyffi_embed_str(out: *mut Obj, s: *const c_char, len: usize) -> Status;
    fn pyffi_embed_to_int64(out: *mut i64, obj: Obj) -> Status;
    fn pyffi_embed_to_str(out: *mut *mut c_char, len: *mut usize, obj: Obj) -> Status;
    fn pyffi_embed_release(obj: Obj) -> Status;
    fn pyffi_embed_error_type() -> *const c_char;
    fn pyffi_embed_error_message() -> *const c_char;
    fn pyffi_embed_error_traceback() -> *const c_char;
    fn pyffi_error_last() -> *const c_char;
    fn pyffi_string_free(s: *mut c_char);
}

fn text(p: *const c_char) -> String {
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// A pyffi status as a Result carrying the thread's error message.
fn ok(status: Status) -> Result<(), String> {
    if status == 0 {
        Ok(())
    } else {
        Err(format!("status {}: {}", status, text(unsafe { pyffi_error_last() })))
    }
}

/// A Python object held by Rust: released exactly once, when dropped.
struct Py(Obj);

impl Drop for Py {
    fn drop(&mut self) {
        unsafe { pyffi_embed_release(self.0) };
    }
}

fn import(name: &str) -> Result<Py, String> {
    let mut out = 0;
    ok(unsafe { pyffi_embed_import(&mut out, name.as_ptr() as *const c_char, name.len()) })?;
    Ok(Py(out))
}

fn getattr(obj: &Py, name: &str) -> Result<Py, String> {
    let mut out = 0;
    ok(unsafe { pyffi_embed_getattr(&mut out, obj.0, name.as_ptr() as *const c_char, name.len()) })?;
    Ok(Py(out))
}

fn call(f: &Py, args: &[&Py]) -> Result<Py, String> {
    let handles: Vec<Obj> = args.iter().map(|a| a.0).collect();
    let mut out = 0;
    ok(unsafe { pyffi_embed_call(&mut out, f.0, handles.as_ptr(), handles.len(), 0) })?;
    Ok(Py(out))
}

fn int(v: i64) -> Result<Py, String> {
    let mut out = 0;
    ok(unsafe { pyffi_embed_int64(&mut out, v) })?;
    Ok(Py(out))
}

fn string(s: &str) -> Result<Py, String> {
    let mut out = 0;
    ok(unsafe { pyffi_embed_str(&mut out, s.as_ptr() as *const c_char, s.len()) })?;
    Ok(Py(out))
}

fn to_i64(obj: &Py) -> Result<i64, String> {
    let mut v = 0;
    ok(unsafe { pyffi_embed_to_int64(&mut v, obj.0) })?;
    Ok(v)
}

fn to_string(obj: &Py) -> Result<String, String> {
    let mut p: *mut c_char = std::ptr::null_mut();
    let mut len = 0;
    ok(unsafe { pyffi_embed_to_str(&mut p, &mut len, obj.0) })?;
    let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, len) }.to_vec();
    unsafe { pyffi_string_free(p) };
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn check(what: &str, good: bool) -> Result<(), String> {
    if good {
        Ok(())
    } else {
        Err(format!("check failed: {}", what))
    }
}

fn run() -> Result<(), String> {
    let code = "def add(a, b):\n    return a + b\n";
    ok(unsafe { pyffi_embed_run(std::ptr::null(), code.as_ptr() as *const c_char, code.len()) })?;
    let main = import("__main__")?;
    let add = getattr(&main, "add")?;
    let sum = call(&add, &[&int(40)?, &int(2)?])?;
    check("add(40, 2) == 42", to_i64(&sum)? == 42)?;

    let json = import("json")?;
    let dumps = getattr(&json, "dumps")?;
    let dumped = to_string(&call(&dumps, &[&string("héllo")?])?)?;
    check("json.dumps(\"héllo\")", dumped == "\"h\\u00e9llo\"")?;

    // A Python exception: status PYFFI_PYTHON, then its parts on this thread.
    let status = unsafe {
        let mut out = 0;
        pyffi_embed_call(&mut out, add.0, [int(1)?.0, string("x")?.0].as_ptr(), 2, 0)
    };
    check("the TypeError is PYFFI_PYTHON", status == PYFFI_PYTHON)?;
    let (kind, message, traceback) = unsafe {
        (text(pyffi_embed_error_type()), text(pyffi_embed_error_message()),
         text(pyffi_embed_error_traceback()))
    };
    check("its type", kind == "TypeError")?;
    check("its message", message.contains("unsupported operand type(s) for +"))?;
    check(&format!("its traceback: {}", traceback), traceback.contains("in add") && traceback.contains("return a + b"))?;

    let mut big = 0;
    let src = "1 / 0";
    let status = unsafe { pyffi_embed_eval(&mut big, std::ptr::null(), src.as_ptr() as *const c_char, src.len()) };
    check("1 / 0 raises", status == PYFFI_PYTHON && text(unsafe { pyffi_embed_error_type() }) == "ZeroDivisionError")?;
    let src = "2**70";
    ok(unsafe { pyffi_embed_eval(&mut big, std::ptr::null(), src.as_ptr() as *const c_char, src.len()) })?;
    let big = Py(big);
    let mut v = 0;
    check("2**70 into an i64 is PYFFI_OVERFLOW",
          unsafe { pyffi_embed_to_int64(&mut v, big.0) } == PYFFI_OVERFLOW)?;
    check("the message names the value", text(unsafe { pyffi_error_last() }).contains("1180591620717411303424"))?;
    Ok(())
}

fn main() {
    match run() {
        Ok(()) => println!("embed.rs: all checks passed"),
        Err(e) => {
            eprintln!("embed.rs: {}", e);
            exit(1);
        }
    }
}
