//! What only a web adapter needs, around [`Receiver::admit`](crate::Receiver::admit) and
//! [`Receiver::complete`](crate::Receiver::complete): the body buffers that enforce the limit
//! while reading, the rejection and delivery they return, the request's trace span, and the
//! helper behind the `Ipn<T>` extractors. `ipn-tower` and `ipn-actix` use these; an adapter for
//! another framework would too. A handler never needs them.

pub use crate::extract::{ExtractError, Extracted, extract};
pub use crate::receiver::{BodyBuffer, Buffered, ChunkBuffer, Delivery, MAX_RESERVED_BYTES, Rejected};
pub use crate::trace::Trace;
