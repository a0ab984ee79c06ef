//! A multi-tenant service: no default end-user; each request's trace root
//! names the user it serves. One user's chat is a session, one trace per turn.
//!
//! ```text
//! cargo run --example multi_tenant
//! ```

use neatlogs::SpanHandle;
use std::time::Duration;

use neatlogs::{FutureExt, SpanKind};
use serde_json::json;
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
struct User {
    id: &'static str,
    plan: &'static str,
}

#[derive(Debug)]
struct Request {
    user: User,
    session: String,
    message: String,
}

#[tokio::main]
async fn main() -> Result<(), neatlogs::InitError> {
    neatlogs::init(
        neatlogs::Config::from_env()
            .workflow_name("support-chat")
            .operator_id("svc-support") // the operator (this service), never an end-user
            .console(true),
    )?;

    let (tx, mut rx) = mpsc::channel::<Request>(64);

    // Clients: three users, one of them having a three-turn chat.
    let producer = tokio::spawn(async move {
        let users = [
            User {
                id: "u_812",
                plan: "pro",
            },
            User {
                id: "u_8041",
                plan: "free",
            },
            User {
                id: "u_17",
                plan: "pro",
            },
        ];
        for (turn, message) in ["hi", "my invoice is wrong", "thanks!"].iter().enumerate() {
            for user in &users {
                if turn > 0 && user.id != "u_812" {
                    continue;
                }
                let request = Request {
                    user: user.clone(),
                    session: format!("chat-{}", user.id),
                    message: (*message).to_owned(),
                };
                if tx.send(request).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });

    // The server loop: one task per request, one trace per request.
    let mut handlers = Vec::new();
    while let Some(request) = rx.recv().await {
        handlers.push(tokio::spawn(handle(request)));
    }
    producer.await.expect("producer");
    for h in handlers {
        let reply = h.await.expect("handler");
        println!("{reply}");
    }

    if !neatlogs::shutdown() {
        eprintln!("some spans were not exported: {:?}", neatlogs::stats());
    }
    Ok(())
}

async fn handle(request: Request) -> String {
    neatlogs::trace("chat-turn")
        .end_user_id(request.user.id)
        .end_user_metadata(json!({"plan": request.user.plan}))
        .session_id(&request.session)
        .instrument(run_agent(request.message))
        .await
}

async fn run_agent(message: String) -> String {
    // Fan out to a tool on another task: carry the trace with it.
    let lookup = tokio::spawn(
        neatlogs::span(SpanKind::Tool, "lookup-account")
            .instrument(async {
                tokio::time::sleep(Duration::from_millis(2)).await;
                "account ok".to_owned()
            })
            .in_current_trace(),
    );
    let facts = lookup.await.unwrap_or_default();
    let mut call = neatlogs::span(SpanKind::Llm, "chat-completion").instrument(async {
        tokio::time::sleep(Duration::from_millis(3)).await;
        neatlogs::with_current_span(|s| {
            s.set_output(format!("re: {message}"));
            s.set_usage(neatlogs::llm::Usage::new(30, 12));
        });
        format!("re: {message} ({facts})")
    });
    call.set_model("gpt-4o");
    call.set_input(message.clone());
    let reply = call.await;
    let user = neatlogs::current_end_user().map(|u| u.id().to_string());
    format!("[{}] {reply}", user.unwrap_or_default())
}
