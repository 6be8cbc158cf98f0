//! Sign-up codes by e-mail: SMTP through lettre, or the log when no SMTP is configured.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, SmtpTls};

/// The subject the original backend used (contract §4.3).
pub const SIGNUP_SUBJECT: &str = "[NINE Cloud에서 보낸 인증코드]";

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send_signup_code(&self, to: &str, code: &str) -> anyhow::Result<()>;
    fn describe(&self) -> String;
}

pub fn from_config(cfg: &MailConfig) -> anyhow::Result<std::sync::Arc<dyn Mailer>> {
    Ok(match cfg {
        MailConfig::Log => std::sync::Arc::new(LogMailer),
        MailConfig::Smtp { .. } => std::sync::Arc::new(SmtpMailer::new(cfg)?),
    })
}

/// Writes the code to the log: the embedded default, so sign-up works with no mail server.
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send_signup_code(&self, to: &str, code: &str) -> anyhow::Result<()> {
        tracing::info!(
            to,
            code,
            "sign-up code (no SMTP configured, so it is logged here)"
        );
        Ok(())
    }

    fn describe(&self) -> String {
        "log (sign-up codes are written to the log)".into()
    }
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    describe: String,
}

impl SmtpMailer {
    pub fn new(cfg: &MailConfig) -> anyhow::Result<Self> {
        let MailConfig::Smtp {
            host,
            port,
            tls,
            username,
            password,
            from,
        } = cfg
        else {
            anyhow::bail!("not an SMTP configuration");
        };
        let mut builder = match tls {
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        }
        .port(*port)
        .timeout(Some(Duration::from_secs(15)));
        if let (Some(u), Some(p)) = (username, password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: Mailbox::new(Some("NINE Cloud".into()), from.parse()?),
            describe: format!("smtp {host}:{port} ({tls:?})"),
        })
    }
}

fn signup_html(code: &str) -> String {
    format!(
        "<div style=\"font-family:sans-serif;max-width:420px;margin:auto;padding:24px;\
         border:1px solid #ddd;border-radius:12px;text-align:center\">\
         <h2 style=\"margin:0 0 12px\">NINE Cloud</h2>\
         <p>회원가입 인증코드입니다.</p>\
         <p style=\"font-size:28px;letter-spacing:6px;font-weight:bold\">{code}</p>\
         <p style=\"color:#888\">코드는 잠시 후 만료됩니다.</p></div>"
    )
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send_signup_code(&self, to: &str, code: &str) -> anyhow::Result<()> {
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to.parse()?)
            .subject(SIGNUP_SUBJECT)
            .multipart(MultiPart::alternative_plain_html(
                format!("NINE Cloud 회원가입 인증코드: {code}"),
                signup_html(code),
            ))?;
        self.transport.send(msg).await?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
