//! Pages and server-function answers, gzipped by a compressor each worker thread keeps
//! (libdeflate at level 1: whole answers in one call are what it is made for).
//!
//! tower-http's `CompressionLayer` builds a new deflate state for every response: about
//! 300 KB allocated and zeroed, then freed, for an 8 KB page. In `scripts/bench` that
//! allocation, not the compressing, was most of what compression cost a page. Answers of
//! a known size (every page: `security::security_headers` has read it whole already; every
//! server-function answer) are compressed here in one call by the thread's own
//! compressor, reset between uses. Anything else (a body of unknown length, a large
//! export) is left to the `CompressionLayer` outside this one, which takes only those
//! ([`Unsized`]): what this layer sent plain (too small, a redirect, not text) stays plain.

use std::cell::RefCell;

use axum::{
    body::{Body, HttpBody as _},
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use libdeflater::{CompressionLvl, Compressor};

/// Below this, the gzip header and trailer (18 bytes) and a network packet's worth of
/// room make compressing pointless.
const MIN_BYTES: u64 = 512;
/// Larger answers are streamed by the `CompressionLayer` instead of buffered here.
const MAX_BYTES: u64 = 1024 * 1024;

thread_local! {
    /// gzip at level 1, which on pages is within 4 % of the default's size. (Not
    /// `CompressionLvl::fastest()`: that is level 0, which stores without compressing.)
    static GZIP: RefCell<Compressor> = RefCell::new(Compressor::new(LEVEL));
}

const LEVEL: CompressionLvl = match CompressionLvl::new(1) {
    Ok(level) => level,
    Err(_) => panic!("libdeflate has level 1"),
};

pub async fn gzip(request: Request, next: Next) -> Response {
    let accepts_gzip = accepts_gzip(request.headers());
    let mut response = next.run(request).await;
    if !worth_compressing(&response) {
        return response;
    }
    // Whether it is sent compressed depends on the request's Accept-Encoding, so a cache
    // must key on it, also when this client is sent it plain.
    add_vary_accept_encoding(response.headers_mut());
    if !accepts_gzip {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BYTES as usize).await else {
        // The size was checked, so only a body that failed while being read lands here.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(compressed) = gzip_bytes(&bytes).filter(|gz| gz.len() < bytes.len()) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let headers = &mut parts.headers;
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::ACCEPT_RANGES);
    Response::from_parts(parts, Body::from(compressed))
}

fn add_vary_accept_encoding(headers: &mut HeaderMap) {
    let varies = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| {
            value
                .split(',')
                .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding"))
        });
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// The outer `CompressionLayer`'s share: bodies of unknown length or larger than this
/// layer buffers. The rest this layer has decided on already.
#[derive(Debug, Clone, Copy)]
pub struct Unsized;

impl tower_http::compression::Predicate for Unsized {
    fn should_compress<B>(&self, response: &http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        response
            .body()
            .size_hint()
            .exact()
            .is_none_or(|size| size > MAX_BYTES)
    }
}

/// Whether `Accept-Encoding` takes gzip (`gzip` or `x-gzip` without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|parameter| {
                let parameter = parameter.trim();
                parameter
                    .strip_prefix("q=")
                    .or_else(|| parameter.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip")) && !refused
        })
}

/// Text of a known, middling size that nobody has encoded yet, in a whole answer.
fn worth_compressing(response: &Response) -> bool {
    let headers = response.headers();
    let status = response.status();
    // 206 ranges, 304s and redirects are left as they are; 200s and errors are sent whole.
    if !(status == StatusCode::OK || status.is_client_error() || status.is_server_error()) {
        return false;
    }
    if headers.contains_key(header::CONTENT_ENCODING) || headers.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    let Some(size) = response.body().size_hint().exact() else {
        return false;
    };
    if !(MIN_BYTES..=MAX_BYTES).contains(&size) {
        return false;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/manifest+json"
                | "application/xml"
                | "image/svg+xml"
        )
}

/// `input` as a gzip member (RFC 1952), or `None` if it would not fit the bound
/// libdeflate promises (it cannot happen: the bound is the worst case).
fn gzip_bytes(input: &[u8]) -> Option<Vec<u8>> {
    GZIP.with(|gzip| {
        let mut gzip = gzip.borrow_mut();
        let mut out = vec![0; gzip.gzip_compress_bound(input.len())];
        let written = gzip.gzip_compress(input, &mut out).ok()?;
        out.truncate(written);
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_gzip_member_decodes_to_the_input_time_after_time() {
        let page = "<p>研究生离校信息查询</p>".repeat(400);
        for _ in 0..3 {
            // The same thread's compressor, reused: each answer must stand alone.
            let gz = gzip_bytes(page.as_bytes()).expect("compressed");
            assert!(gz.len() < page.len() / 4);
            let mut plain = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut plain)
                .expect("a valid gzip member");
            assert_eq!(plain, page);
        }
        // Larger than a page, and incompressible: still a valid member.
        let noise: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let gz = gzip_bytes(&noise).expect("compressed");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut plain)
            .expect("a valid gzip member");
        assert_eq!(plain, noise);
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        let accepts = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).expect("value"),
            );
            accepts_gzip(&headers)
        };
        assert!(accepts("br, gzip"));
        assert!(accepts("gzip;q=0.5, deflate"));
        assert!(accepts("X-GZIP"));
        assert!(!accepts("br"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("gzip; q=0.0, br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
