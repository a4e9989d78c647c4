//! `urne credentials hand-over`: the weaker mode of docs/voters.md §2.3, where the credential
//! authority gives the private credentials to the server, which mails them itself
//! (`POST /api/v1/admin/elections/{id}/credentials/private`). The server's operator then sees
//! every credential: the command says so, and asks for `--i-understand-the-server-sees-them`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use zeroize::Zeroizing;

use super::private;

/// Options of `urne credentials hand-over`.
#[derive(Args, Debug)]
pub struct HandOver {
    /// The private file written by `generate`.
    #[arg(long, value_name = "FILE")]
    private: PathBuf,
    /// The election's address on the server (`https://vote.example/api/v1/elections/ID`).
    #[arg(long, value_name = "URL")]
    election_url: String,
    /// Confirms that the server's operator will see every credential, and could vote in any
    /// voter's place: the reason the authority normally mails them itself.
    #[arg(long)]
    i_understand_the_server_sees_them: bool,
}

#[derive(Serialize)]
struct Entry<'a> {
    voter: &'a str,
    credential: Zeroizing<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    credentials: Vec<Entry<'a>>,
}

#[derive(serde::Deserialize)]
struct Answer {
    queued: u64,
}

/// Sends the private file's credentials to the server for mailing; the administrator's API
/// token comes from `URNE_ADMIN_TOKEN`.
pub(super) fn run(a: &HandOver) -> anyhow::Result<()> {
    if !a.i_understand_the_server_sees_them {
        bail!(
            "handing the credentials to the server lets its operator vote in any voter's place; \
             mail them yourself with `urne credentials mail` (docs/voters.md §2.3), or confirm \
             with --i-understand-the-server-sees-them"
        );
    }
    let url = a.election_url.trim_end_matches('/');
    let Some((base, id)) = url.rsplit_once("/api/v1/elections/") else {
        bail!("--election-url: `{url}` is not an election's address (…/api/v1/elections/ID)");
    };
    let token = Zeroizing::new(
        std::env::var("URNE_ADMIN_TOKEN")
            .context("set URNE_ADMIN_TOKEN to an administrator's API token")?,
    );
    let entries = private::read(&a.private)?;
    let body = Body {
        credentials: entries
            .iter()
            .map(|e| Entry {
                voter: &e.voter_id,
                credential: e.credential.display(),
            })
            .collect(),
    };
    let answer: Answer = crate::client::Client::new(base)
        .with_token(&token)
        .post(
            &format!("/api/v1/admin/elections/{id}/credentials/private"),
            &body,
        )
        .with_context(|| format!("handing the credentials to {base}"))?;
    println!(
        "urne credentials: {} credentials handed to {base} for election `{id}`; it queued {} \
         letters. Follow their delivery at /api/v1/admin/elections/{id}/mail",
        entries.len(),
        answer.queued
    );
    Ok(())
}
