//! The address a request comes from. Behind a reverse proxy the peer is the proxy, so a request
//! from a trusted proxy (`trusted_proxies`) comes from the address its forwarding header names:
//! the header is read from the right, each proxy having appended the address it heard from,
//! past every address that is itself a trusted proxy. The first address that is not is the
//! client; what a client wrote further left is never believed. Requests from anywhere else come
//! from their peer, whatever headers they carry.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::state::AppState;

/// The header trusted proxies name the client in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    XForwardedFor,
    /// RFC 7239's `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    Forwarded,
}

/// The client's address, as [`client_address`] finds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or_else(|| AppError::internal("the server runs without its peers' addresses"))?;
        Ok(Self(client_address(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
            state.config.forwarded_header,
        )))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; else the rightmost
/// address of `header` that is not a trusted proxy. A hop that names no address (`unknown`, an
/// obfuscated name, or text that does not read) ends the walk at the proxy that wrote it.
pub(crate) fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ForwardedHeader,
) -> IpAddr {
    let is_trusted = |address: IpAddr| trusted.iter().any(|net| net.contains(&address));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in hops(headers, header).into_iter().rev() {
        let Some(address) = hop else {
            return client;
        };
        client = address;
        if !is_trusted(address) {
            return client;
        }
    }
    client
}

/// Every hop the header lists, left to right, over all its lines; `None` for one that names no
/// address.
fn hops(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let name = match header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        ForwardedHeader::Forwarded => "forwarded",
    };
    headers
        .get_all(name)
        .iter()
        .flat_map(|line| {
            let text = line.to_str().unwrap_or("\u{0}");
            text.split(',')
                .map(|hop| match header {
                    ForwardedHeader::XForwardedFor => node_address(hop),
                    ForwardedHeader::Forwarded => forwarded_for(hop),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `for=` of one element of a `Forwarded` header (`for=192.0.2.60;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| node_address(value))
            .flatten()
    })
}

/// An address with or without a port, IPv6 in brackets or bare, quoted or not.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(address) = node.parse::<SocketAddr>() {
        return Some(address.ip());
    }
    let bracketed = node.strip_prefix('[')?;
    bracketed[..bracketed.find(']')?].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(name, line.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(cidrs: &[&str]) -> Vec<IpNet> {
        cidrs.iter().map(|cidr| cidr.parse().unwrap()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_it_says() {
        let said = headers("x-forwarded-for", &["203.0.113.9"]);
        for trusted in [nets(&[]), nets(&["10.0.0.0/8"])] {
            assert_eq!(
                client_address(
                    ip("198.51.100.7"),
                    &said,
                    &trusted,
                    ForwardedHeader::XForwardedFor
                ),
                ip("198.51.100.7")
            );
        }
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "fd00::/8"]);
        // The client forged the first entry; the proxies appended the rest.
        let said = headers(
            "x-forwarded-for",
            &["1.2.3.4, 203.0.113.9", "10.1.1.1, 10.2.2.2"],
        );
        let client =
            |peer| client_address(ip(peer), &said, &trusted, ForwardedHeader::XForwardedFor);
        assert_eq!(client("10.3.3.3"), ip("203.0.113.9"));
        assert_eq!(client("fd00::1"), ip("203.0.113.9"));
        assert_eq!(
            client_address(ip("10.3.3.3"), &said, &trusted, ForwardedHeader::Forwarded),
            ip("10.3.3.3"),
            "only the configured header is read"
        );
        let all_proxies = headers("x-forwarded-for", &["10.9.9.9"]);
        assert_eq!(
            client_address(
                ip("10.3.3.3"),
                &all_proxies,
                &trusted,
                ForwardedHeader::XForwardedFor
            ),
            ip("10.9.9.9"),
            "every hop trusted: the leftmost"
        );
        let unreadable = headers("x-forwarded-for", &["203.0.113.9, nonsense"]);
        assert_eq!(
            client_address(
                ip("10.3.3.3"),
                &unreadable,
                &trusted,
                ForwardedHeader::XForwardedFor
            ),
            ip("10.3.3.3"),
            "a hop that does not read ends the walk at the proxy that wrote it"
        );
    }

    #[test]
    fn forwarded_elements_name_their_client_in_every_form_rfc_7239_allows() {
        let trusted = nets(&["192.0.2.0/24"]);
        let said = headers(
            "forwarded",
            &[
                r#"for=198.51.100.17;proto=https, For="[2001:db8:cafe::17]:4711""#,
                "for=192.0.2.60;by=192.0.2.1",
            ],
        );
        assert_eq!(
            client_address(ip("192.0.2.1"), &said, &trusted, ForwardedHeader::Forwarded),
            ip("2001:db8:cafe::17")
        );
        let hidden = headers("forwarded", &["for=198.51.100.17, for=_hidden"]);
        assert_eq!(
            client_address(
                ip("192.0.2.1"),
                &hidden,
                &trusted,
                ForwardedHeader::Forwarded
            ),
            ip("192.0.2.1")
        );
        assert_eq!(
            node_address("198.51.100.17:8080"),
            Some(ip("198.51.100.17"))
        );
        assert_eq!(node_address("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(node_address("unknown"), None);
    }
}
