//! The messages of a SASL login, pure: PLAIN (RFC 4616) and the client side of SCRAM
//! (RFC 5802, with SHA-256 and SHA-512 as RFC 7677 and Kafka's KIP-84 use them). `wire` sends
//! them. The password never appears in an error.

use std::num::NonZeroU32;

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::{digest, hmac, pbkdf2};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::wire::WireError;

/// The iteration counts we accept from a server: RFC 7677's minimum, and a ceiling so a bad
/// server cannot make us spin (Kafka allows at most 16384).
const ITERATIONS: std::ops::RangeInclusive<u32> = 4096..=1_000_000;

/// The hash a SCRAM mechanism is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

/// The SASL mechanisms we can log in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mechanism {
    /// PLAIN: user and password in one message (TLS is what protects it).
    Plain,
    /// SCRAM: a challenge and response that never sends the password.
    Scram(ScramHash),
}

impl Mechanism {
    /// The mechanism named like librdkafka's `sasl.mechanism`.
    pub(super) fn parse(name: &str) -> Result<Self, WireError> {
        match name.to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(Mechanism::Plain),
            "SCRAM-SHA-256" => Ok(Mechanism::Scram(ScramHash::Sha256)),
            "SCRAM-SHA-512" => Ok(Mechanism::Scram(ScramHash::Sha512)),
            "" => Err(WireError::Invalid(
                "a SASL security protocol needs kafka.sasl_mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)".into(),
            )),
            other => Err(WireError::Invalid(format!(
                "SASL mechanism {other:?} is not supported for client quotas; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            ))),
        }
    }
}

impl ScramHash {
    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramHash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramHash::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramHash::Sha256 => hmac::HMAC_SHA256,
            ScramHash::Sha512 => hmac::HMAC_SHA512,
        }
    }
    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramHash::Sha256 => &digest::SHA256,
            ScramHash::Sha512 => &digest::SHA512,
        }
    }
    fn len(self) -> usize {
        self.digest().output_len()
    }
    fn mac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(self.hmac(), key), data).as_ref().to_vec()
    }
}

/// The PLAIN message: no authorization id, then user and password.
pub(super) fn plain_message(user: &str, password: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(2 + user.len() + password.len());
    m.push(0);
    m.extend_from_slice(user.as_bytes());
    m.push(0);
    m.extend_from_slice(password.as_bytes());
    m
}

/// A fresh client nonce: 24 random bytes, base64 (printable, never a comma).
pub(super) fn nonce() -> Result<String, WireError> {
    let mut bytes = [0u8; 24];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| WireError::Invalid("no random bytes for the SCRAM nonce".into()))?;
    Ok(B64.encode(bytes))
}

/// A user name as SCRAM writes it: `=` and `,` escaped.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// One SCRAM login from the client's side.
pub(super) struct ScramClient {
    hash: ScramHash,
    nonce: String,
    first_bare: String,
}

/// What the server's final message must prove: that it knows the password's server key.
#[derive(Debug)]
pub(super) struct ServerCheck {
    signature: Vec<u8>,
}

fn refused(why: &str) -> WireError {
    WireError::Auth(format!("SCRAM: {why}"))
}

impl ScramClient {
    /// A login as `user` with our `nonce`.
    pub(super) fn new(hash: ScramHash, user: &str, nonce: String) -> Self {
        let first_bare = format!("n={},r={nonce}", saslname(user));
        Self { hash, nonce, first_bare }
    }

    /// client-first-message: no channel binding, no authorization id.
    pub(super) fn first_message(&self) -> String {
        format!("n,,{}", self.first_bare)
    }

    /// client-final-message for the server's first message, and what the server must prove.
    pub(super) fn final_message(
        &self,
        server_first: &[u8],
        password: &str,
    ) -> Result<(String, ServerCheck), WireError> {
        let server_first =
            std::str::from_utf8(server_first).map_err(|_| refused("the server's first message is not UTF-8"))?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for (i, field) in server_first.split(',').enumerate() {
            match field.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("m", _)) if i == 0 => return Err(refused("the server requires an extension we do not know")),
                Some(("e", v)) => return Err(refused(&format!("the server refused the login: {v}"))),
                _ => {}
            }
        }
        let nonce = nonce.ok_or_else(|| refused("the server's first message has no nonce"))?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(refused("the server's nonce does not extend ours"));
        }
        let salt = salt
            .and_then(|s| B64.decode(s).ok())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| refused("the server's first message has no valid salt"))?;
        let iterations = iterations
            .and_then(|i| i.parse::<u32>().ok())
            .filter(|i| ITERATIONS.contains(i))
            .and_then(NonZeroU32::new)
            .ok_or_else(|| refused("the server's iteration count is missing or out of range"))?;

        let hash = self.hash;
        let mut salted = vec![0u8; hash.len()];
        pbkdf2::derive(hash.pbkdf2(), iterations, &salt, password.as_bytes(), &mut salted);
        let client_key = hash.mac(&salted, b"Client Key");
        let stored_key = digest::digest(hash.digest(), &client_key);
        // c=biws: base64 of the GS2 header "n,,".
        let final_bare = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{final_bare}", self.first_bare);
        let client_signature = hash.mac(stored_key.as_ref(), auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&client_signature).map(|(k, s)| k ^ s).collect();
        let server_key = hash.mac(&salted, b"Server Key");
        let signature = hash.mac(&server_key, auth_message.as_bytes());
        Ok((format!("{final_bare},p={}", B64.encode(proof)), ServerCheck { signature }))
    }
}

impl ServerCheck {
    /// Checks server-final-message: an error from the server, or a signature that is not the
    /// one only the password's holder can compute, fails the login.
    pub(super) fn verify(&self, server_final: &[u8]) -> Result<(), WireError> {
        let text = std::str::from_utf8(server_final).map_err(|_| refused("the server's final message is not UTF-8"))?;
        let first = text.split(',').next().unwrap_or_default();
        if let Some(e) = first.strip_prefix("e=") {
            return Err(refused(&format!("the server refused the login: {e}")));
        }
        let signature = first
            .strip_prefix("v=")
            .and_then(|v| B64.decode(v).ok())
            .ok_or_else(|| refused("the server's final message has no signature"))?;
        if signature != self.signature {
            return Err(refused("the server's signature is wrong: it does not know this user's credential"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The SCRAM-SHA-256 example exchange of RFC 7677, section 3.
    const RFC_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const RFC_SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const RFC_CLIENT_FINAL: &str =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const RFC_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    #[test]
    fn the_rfc_7677_exchange_is_reproduced_and_the_server_verified() {
        let client = ScramClient::new(ScramHash::Sha256, "user", RFC_NONCE.into());
        assert_eq!(client.first_message(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let Ok((last, check)) = client.final_message(RFC_SERVER_FIRST.as_bytes(), "pencil") else {
            panic!("the RFC's server-first message is valid")
        };
        assert_eq!(last, RFC_CLIENT_FINAL);
        assert_eq!(check.verify(RFC_SERVER_FINAL.as_bytes()), Ok(()));
    }

    #[test]
    fn a_server_that_does_not_know_the_password_is_refused() {
        let client = ScramClient::new(ScramHash::Sha256, "user", RFC_NONCE.into());
        let Ok((_, check)) = client.final_message(RFC_SERVER_FIRST.as_bytes(), "not-pencil") else { panic!("valid") };
        assert!(
            matches!(check.verify(RFC_SERVER_FINAL.as_bytes()), Err(WireError::Auth(m)) if m.contains("signature"))
        );
        assert!(matches!(check.verify(b"e=invalid-proof"), Err(WireError::Auth(m)) if m.contains("invalid-proof")));
        assert!(check.verify(b"").is_err());
        assert!(check.verify(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn hostile_server_first_messages_are_refused_without_the_password() {
        let client = ScramClient::new(ScramHash::Sha512, "user", RFC_NONCE.into());
        let bad = [
            "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "r=rOprNGfwEbeRWgbNEkqOx,s=***,i=4096",
            "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967295",
            "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
            "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==",
            "m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "e=unknown-user",
            "",
            ",,,,=",
        ];
        for m in bad {
            let got = client.final_message(m.as_bytes(), "hunter2-secret");
            assert!(matches!(&got, Err(WireError::Auth(e)) if !e.contains("hunter2")), "{m:?}: {got:?}");
        }
        assert!(client.final_message(&[0xc3, 0x28], "p").is_err());
    }

    #[test]
    fn user_names_are_escaped_and_nonces_are_fresh() {
        let client = ScramClient::new(ScramHash::Sha512, "a=b,c", "n".into());
        assert_eq!(client.first_message(), "n,,n=a=3Db=2Cc,r=n");
        let (a, b) = (nonce(), nonce());
        assert!(matches!((&a, &b), (Ok(a), Ok(b)) if a != b && a.len() == 32 && !a.contains(',')));
    }

    #[test]
    fn mechanisms_are_named_like_librdkafkas() {
        assert_eq!(Mechanism::parse("SCRAM-SHA-512"), Ok(Mechanism::Scram(ScramHash::Sha512)));
        assert_eq!(Mechanism::parse("scram-sha-256"), Ok(Mechanism::Scram(ScramHash::Sha256)));
        assert_eq!(Mechanism::parse("PLAIN"), Ok(Mechanism::Plain));
        assert!(matches!(Mechanism::parse(""), Err(WireError::Invalid(m)) if m.contains("sasl_mechanism")));
        assert!(Mechanism::parse("OAUTHBEARER").is_err());
        assert_eq!(plain_message("u", "p"), b"\0u\0p");
    }
}
