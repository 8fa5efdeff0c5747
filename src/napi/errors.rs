//! Errors cross into JS as `[CODE] message`; index.js turns the prefix into `err.code`.
pub fn js_error(code: &str, msg: impl std::fmt::Display) -> napi::Error {
  napi::Error::new(napi::Status::GenericFailure, format!("[{code}] {msg}"))
}

impl From<crate::error::Error> for napi::Error {
  fn from(e: crate::error::Error) -> Self {
    js_error(e.code(), &e)
  }
}
