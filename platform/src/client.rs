//! The client's address: the TCP peer, or behind a trusted proxy the address that proxy was reached from.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed (`SHOP_TRUSTED_PROXIES`); put in the request
/// extensions by the router, read by the `ClientAddr` extractor.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, address: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(address))
    }

    /// The client of a request from `peer`. Only when `peer` is a trusted proxy is `X-Forwarded-For` read,
    /// from the right (each proxy appends the address it was reached from): the first address that is not
    /// a trusted proxy is the client. Anything to its left was written by the client and proves nothing. An
    /// entry that is not an address ends the walk at the last proxy.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(&peer) {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            let entry = entry.trim().trim_start_matches('[').trim_end_matches(']');
            let Ok(address) = entry.parse::<IpAddr>() else {
                break;
            };
            client = address;
            if !self.trusts(&address) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(cidrs: &[&str]) -> TrustedProxies {
        TrustedProxies(cidrs.iter().map(|c| c.parse().unwrap()).collect())
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn it_should_ignore_the_header_from_a_peer_it_does_not_trust() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            trusted.client(ip("198.51.100.7"), &headers),
            ip("198.51.100.7")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.2"), &headers),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn it_should_take_the_right_most_address_that_is_not_a_trusted_proxy() {
        let trusted = proxies(&["10.0.0.0/8", "::1/128"]);
        let headers = forwarded(&["1.2.3.4, 203.0.113.9, 10.0.0.5"]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &headers), ip("203.0.113.9"));
        let split = forwarded(&["1.2.3.4", "203.0.113.9"]);
        assert_eq!(trusted.client(ip("::1"), &split), ip("203.0.113.9"));
    }

    #[test]
    fn it_should_stop_at_the_last_proxy_when_an_entry_is_not_an_address() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.9, unknown, 10.0.0.5"]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &headers), ip("10.0.0.5"));
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }
}
