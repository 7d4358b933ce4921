//! A Rust cdylib for the pyffi.load tests: slices mirror pyffi.h's types.
use std::ffi::CString;
// std::os::raw, not std::ffi: Debian 12 ships rustc 1.63, before std::ffi::c_char (1.64).
use std::os::raw::c_char;
use std::sync::atomic::{AtomicUsize, Ordering};

/// pyffi_str: UTF-8 bytes, not NUL-terminated.
#[repr(C)]
pub struct PyStr {
    ptr: *const u8,
    len: usize,
}

/// pyffi_vec_i64 / pyffi_vec_f64: a pointer and a length.
#[repr(C)]
pub struct PyVec<T> {
    ptr: *mut T,
    len: usize,
}

impl PyStr {
    fn as_str(&self) -> &str {
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes).expect("pyffi passes valid UTF-8")
    }
}

impl<T> PyVec<T> {
    fn as_mut_slice(&mut self) -> &mut [T] {
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
    fn as_slice(&self) -> &[T] {
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

static FREES: AtomicUsize = AtomicUsize::new(0);

#[no_mangle]
pub extern "C" fn rs_add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

#[no_mangle]
pub extern "C" fn rs_count_words(s: &PyStr) -> usize {
    s.as_str().split_whitespace().count()
}

#[no_mangle]
pub extern "C" fn rs_char_count(s: PyStr) -> usize {
    s.as_str().chars().count()
}

#[no_mangle]
pub extern "C" fn rs_double_all(v: &mut PyVec<i64>) {
    for x in v.as_mut_slice() {
        *x *= 2;
    }
}

#[no_mangle]
pub extern "C" fn rs_sum(v: &PyVec<i64>) -> i64 {
    v.as_slice().iter().sum()
}

#[no_mangle]
pub extern "C" fn rs_normalize(v: &mut PyVec<f64>) {
    let total: f64 = v.as_slice().iter().sum();
    for x in v.as_mut_slice() {
        *x /= total;
    }
}

#[no_mangle]
pub extern "C" fn rs_sort_rows(rows: &mut PyVec<PyVec<i64>>) {
    for row in rows.as_mut_slice() {
        row.as_mut_slice().sort();
    }
}

#[no_mangle]
pub extern "C" fn rs_greet(name: &PyStr) -> *mut c_char {
    CString::new(format!("Hello, {}!", name.as_str())).unwrap().into_raw()
}

#[no_mangle]
pub extern "C" fn rs_free_string(s: *mut c_char) {
    if !s.is_null() {
        FREES.fetch_add(1, Ordering::SeqCst);
        drop(unsafe { CString::from_raw(s) });
    }
}

#[no_mangle]
pub extern "C" fn rs_free_count() -> usize {
    FREES.load(Ordering::SeqCst)
}
