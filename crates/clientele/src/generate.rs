//! Synthetic transaction logs (work in progress by a helper).
