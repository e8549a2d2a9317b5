//! Wire-level pieces shared by every API: request header decoding, response framing, varints,
//! and the shape guard that runs before any body reaches `kafka_protocol`'s decoders.

pub(crate) mod header;
pub(crate) mod shape;
pub(crate) mod varint;

pub(crate) use header::{
    EncodeError, HeaderError, RequestHeader, decode_request_header, encode_bare_error,
    encode_raw_response, encode_response,
};
