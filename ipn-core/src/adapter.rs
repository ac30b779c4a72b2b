//! What only a web adapter needs, around [`Receiver::admit`](crate::Receiver::admit) and
//! [`Receiver::complete`](crate::Receiver::complete): the body buffers that enforce the limit
//! while reading, the rejection and delivery they return, the request's trace span, and the
//! helper behind the `Ipn<T>` extractors. `ipn-tower` and `ipn-actix` use these; an adapter for
//! another framework would too. A handler never needs them.

pub use crate::extract::{ExtractError, Extracted, extract};
pub use crate::receiver::{BodyBuffer, Buffered, ChunkBuffer, Delivery, MAX_RESERVED_BYTES, Rejected};
pub use crate::trace::Trace;

use std::error::Error;
use std::fmt;

/// An error and its sources, `: `-separated: how both adapters log and show a handler's error.
///
/// ```
/// use ipn_core::adapter::ErrorChain;
/// let error = std::io::Error::other("database down");
/// assert_eq!(ErrorChain(&error).to_string(), "database down");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
