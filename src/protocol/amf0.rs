//! AMF0 values.
