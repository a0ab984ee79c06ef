//! A job the SDK starts from inside a request (`neatlogs::new_trace`) is a
//! trace of its own; the collector shows the two traces tied both ways: the
//! job "started from" the request, the request "started" the job (stored
//! OTLP span links, read through the embedded default file).

use std::process::Command;

use serde_json::Value;

fn neatlogs(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_neatlogs"))
        .args(args)
        .output()
        .expect("run neatlogs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn a_spawned_job_and_its_request_find_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.jsonl");
    neatlogs::init(neatlogs::Config::new().local_file(&file)).expect("init");
    let (request, job) = neatlogs::trace("request").end_user_id("u_1").in_scope(|| {
        let request = neatlogs::current_trace_id().unwrap().to_string();
        let job = neatlogs::new_trace("export-job")
            .end_user_id("u_2")
            .in_scope(|| neatlogs::current_trace_id().unwrap().to_string());
        (request, job)
    });
    assert_ne!(request, job);
    assert!(neatlogs::shutdown());
    let path = file.to_str().unwrap();

    let job_detail: Value =
        serde_json::from_str(&neatlogs(&["trace", &job, "--file", path, "--json"])).unwrap();
    assert_eq!(job_detail["trace"]["end_user"], "u_2");
    assert_eq!(job_detail["links"][0]["other_trace_id"], request.as_str());
    assert_eq!(job_detail["links"][0]["stored"], true);
    assert_eq!(job_detail["linked_from"], serde_json::json!([]));

    let request_detail: Value =
        serde_json::from_str(&neatlogs(&["trace", &request, "--file", path, "--json"])).unwrap();
    assert_eq!(request_detail["trace"]["end_user"], "u_1");
    assert_eq!(
        request_detail["linked_from"][0]["other_trace_id"],
        job.as_str()
    );
    assert_eq!(request_detail["links"], serde_json::json!([]));

    let text = neatlogs(&["trace", &request, "--file", path]);
    assert!(text.contains(&format!("started trace {job}")), "{text}");
    let text = neatlogs(&["trace", &job, "--file", path]);
    assert!(
        text.contains(&format!("started from trace {request}")),
        "{text}"
    );
}
