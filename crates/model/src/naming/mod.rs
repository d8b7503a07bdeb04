//! Address rules of Đ7.3 (see naming/mod.rs).
