//! What runs in the background, apart from the use cases the API, console and portal call:
//! the delivery workers (`deliver`), the registry of recurring jobs (`jobs`) and the
//! housekeeping one of those jobs does.

pub mod deliver;
mod digest;
mod framing;
pub mod housekeeping;
pub mod jobs;
pub mod post;
pub mod webhook;
