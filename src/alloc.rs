//! The binary's allocator: the platform's (mimalloc on 64-bit musl), with allocation failure
//! reported as an error instead of Rust's abort.
//!
//! Rust's stable standard library aborts the process when an allocation fails (`memory
//! allocation of N bytes failed`, SIGABRT, exit 134), and has no stable hook to change that.
//! Allocation fails under an address-space limit (`ulimit -v`, some CI sandboxes); the user
//! should then read what happened and what to do, and get exit 1 like any refused input.
//! `render`, `apply` and `fn` have written nothing to stdout by then (output is written once
//! everything has rendered); `envsubst`, which streams as GNU's does, may have written part.
//! A fallible allocation (`try_reserve`) ends the run the same way: the process has no memory
//! to go on with either way.
//!
//! This is the only `unsafe` code of the project (the library forbids it): a `GlobalAlloc`
//! must be an `unsafe impl`, and each method only forwards to the inner allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::io::Write as _;

// musl's own allocator is slow for the many small allocations of a render (docs/performance.md;
// scripts/bench measures the musl binary without it too (the default `mimalloc`
// feature).
#[cfg(all(feature = "mimalloc", target_env = "musl", target_pointer_width = "64"))]
type Inner = mimalloc::MiMalloc;
#[cfg(not(all(feature = "mimalloc", target_env = "musl", target_pointer_width = "64")))]
type Inner = std::alloc::System;

/// The inner allocator, exiting with a message where it fails.
pub struct Reporting(Inner);

impl Reporting {
    #[cfg(all(feature = "mimalloc", target_env = "musl", target_pointer_width = "64"))]
    pub const fn new() -> Self {
        Self(mimalloc::MiMalloc)
    }

    #[cfg(not(all(feature = "mimalloc", target_env = "musl", target_pointer_width = "64")))]
    pub const fn new() -> Self {
        Self(std::alloc::System)
    }
}

// SAFETY: every method forwards its arguments unchanged to `Inner`, a `GlobalAlloc`, and
// returns what it returned; on a null pointer the process exits and nothing is returned.
unsafe impl GlobalAlloc for Reporting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, passed on as it is.
        checked(unsafe { self.0.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        checked(unsafe { self.0.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract, passed on as it is.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, passed on as it is.
        checked(unsafe { self.0.realloc(ptr, layout, new_size) }, new_size)
    }
}

fn checked(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        out_of_memory(size);
    }
    ptr
}

/// Says so on stderr, without allocating, and exits 1.
fn out_of_memory(size: usize) -> ! {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = size;
    loop {
        at -= 1;
        digits[at] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(b"error: out of memory: could not allocate ");
    let _ = stderr.write_all(&digits[at..]);
    let _ = stderr.write_all(
        b" bytes\n  = help: the run needs more memory than this process may use (`ulimit -v`, a \
          container or CI memory limit): raise the limit, or give it less input at a time\n",
    );
    std::process::exit(1)
}
