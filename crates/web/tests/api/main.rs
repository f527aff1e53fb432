//! The HTTP API, end to end over a real socket, on SQLite and PostgreSQL alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod attestation;
mod audiences;
mod audit;
mod automation;
mod browse;
mod browser;
mod console;
mod console_browser;
mod corrections;
mod demo;
mod directory;
mod errors;
mod imports;
mod messages;
mod never_ship;
mod noise;
mod openapi;
mod partner_channels;
pub(crate) mod portal;
mod readme;
mod sending;
mod sessions;
mod slack;
mod sms;
mod web_push;
mod webhooks;
mod widget;
