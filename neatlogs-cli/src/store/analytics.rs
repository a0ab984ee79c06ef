//! Usage per end-user and per session: the "analyse usage per user" that
//! attaching an end-user is for.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Row};
use serde::Serialize;
use serde_json::Value;

use super::{Store, StoreError};
use crate::filter::Filter;
use crate::pricing::{nanos_to_usd, Nanos};
use crate::time;

/// Usage of one end-user over the traces a filter selects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserStats {
    /// The end-user id.
    pub end_user: String,
    /// Traces stored (after sampling: fewer than were run when the
    /// sender samples).
    pub traces: i64,
    /// An estimate of the traces run: each stored trace counts `1 / p`,
    /// `p` the probability its sender's head sampler kept it with
    /// (`neatlogs.sampling.probability`, 1 when absent); one kept by tail
    /// keep counts 0, since the head-sampled traces already stand for it.
    pub traces_estimated: f64,
    /// Distinct sessions.
    pub sessions: i64,
    /// Spans over those traces.
    pub spans: i64,
    /// Traces with at least one failed span.
    pub errors: i64,
    /// LLM input tokens.
    pub input_tokens: i64,
    /// LLM output tokens.
    pub output_tokens: i64,
    /// What the end-user's LLM calls cost, in USD (senders' figures, else
    /// the price table's); `None` when no call has a known cost, never a
    /// made-up 0.
    pub cost_usd: Option<f64>,
    /// LLM spans (or usage series) with tokens but no known cost: when
    /// more than 0, `cost_usd` covers only the others.
    pub unpriced_spans: i64,
    /// Where the tokens and cost come from: `"usage"` (the sender's usage
    /// metrics, exact whatever it sampled; used when the report is not
    /// filtered) or `"traces"` (the stored traces' LLM spans).
    pub usage_source: &'static str,
    /// LLM calls, from the usage metrics (`None` when they are not used).
    pub llm_calls: Option<i64>,
    /// LLM calls that failed, from the usage metrics.
    pub llm_errors: Option<i64>,
    /// Median trace duration (nearest rank), in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile trace duration (nearest rank), in milliseconds.
    pub p95_ms: f64,
    /// Start of the first trace, RFC 3339 UTC.
    pub first_seen: String,
    /// End of the last trace, RFC 3339 UTC.
    pub last_seen: String,
    /// Workflows the end-user was seen in.
    pub workflows: Vec<String>,
    /// The latest metadata from the catalogue (last write wins by the root
    /// span's end time), over the workflows above.
    pub metadata: Option<Value>,
    #[serde(skip)]
    pub(crate) first_seen_ns: i64,
    #[serde(skip)]
    pub(crate) last_seen_ns: i64,
}

/// The `users` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsersReport {
    /// One row per end-user, sorted as asked.
    pub users: Vec<UserStats>,
    /// Matching traces whose root carried no end-user.
    pub traces_without_end_user: i64,
}

/// How to sort the `users` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    /// Most recently seen first (the default).
    #[default]
    LastSeen,
    /// Earliest first seen first.
    FirstSeen,
    /// Most tokens (input + output) first.
    Tokens,
    /// Highest cost first (unknown costs last).
    Cost,
    /// Most traces first.
    Traces,
    /// Most sessions first.
    Sessions,
    /// Most spans first.
    Spans,
    /// Most failed traces first.
    Errors,
    /// Slowest p95 first.
    P95,
    /// By end-user id, A to Z.
    EndUser,
}

impl std::str::FromStr for UserSort {
    type Err = String;

    /// `last_seen`, `first_seen`, `tokens`, `cost`, `traces`, `sessions`,
    /// `spans`, `errors`, `p95` or `end_user` (`-` works for `_`).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(
            match value.to_ascii_lowercase().replace('-', "_").as_str() {
                "last_seen" => UserSort::LastSeen,
                "first_seen" => UserSort::FirstSeen,
                "tokens" => UserSort::Tokens,
                "cost" => UserSort::Cost,
                "traces" => UserSort::Traces,
                "sessions" => UserSort::Sessions,
                "spans" => UserSort::Spans,
                "errors" => UserSort::Errors,
                "p95" => UserSort::P95,
                "end_user" => UserSort::EndUser,
                _ => {
                    return Err(format!(
                        "unknown sort `{value}`: expected last_seen, first_seen, tokens, cost, \
                     traces, sessions, spans, errors, p95 or end_user"
                    ))
                }
            },
        )
    }
}

/// One session, its turns (traces) and its end-user rolled up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionStats {
    /// The session id.
    pub session: String,
    /// The end-user of the session's turns, when they agree (the most
    /// frequent one when they do not).
    pub end_user: Option<String>,
    /// Every distinct end-user of the session's turns.
    pub end_users: Vec<String>,
    /// True when turns of this session name different end-users.
    pub end_user_conflict: bool,
    /// Turns without an end-user.
    pub turns_without_end_user: i64,
    /// Turns (traces).
    pub turns: i64,
    /// Spans over all turns.
    pub spans: i64,
    /// Turns with a failed span.
    pub errors: i64,
    /// LLM input tokens.
    pub input_tokens: i64,
    /// LLM output tokens.
    pub output_tokens: i64,
    /// What the session's LLM calls cost, in USD; `None` when no call has
    /// a known cost.
    pub cost_usd: Option<f64>,
    /// Workflows of the turns.
    pub workflows: Vec<String>,
    /// Start of the first turn, RFC 3339 UTC.
    pub first_turn: String,
    /// Start of the last turn, RFC 3339 UTC.
    pub last_turn: String,
    #[serde(skip)]
    pub(crate) first_turn_ns: i64,
    #[serde(skip)]
    pub(crate) last_turn_ns: i64,
}

/// One end-user's traces, added up row by row.
#[derive(Default)]
struct Tally {
    /// Trace durations (one per trace).
    durations: Vec<i64>,
    /// Distinct sessions.
    sessions: HashSet<String>,
    /// Workflows (`""` for none).
    workflows: BTreeSet<String>,
    spans: i64,
    errors: i64,
    input_tokens: i64,
    output_tokens: i64,
    /// `None` until a trace with a known cost is added.
    cost: Option<Nanos>,
    unpriced_spans: i64,
    first_ns: i64,
    last_ns: i64,
    /// Σ 1 / p over the traces not kept by tail keep.
    estimated: f64,
}

impl Tally {
    /// Adds a row of `end_user, duration_ns, workflow, session, span_count,
    /// status = 'error', input_tokens, output_tokens, start_ns, end_ns,
    /// cost_nanos, unpriced_spans`.
    fn add(&mut self, row: &Row<'_>) -> rusqlite::Result<()> {
        let (start_ns, end_ns): (i64, i64) = (row.get(8)?, row.get(9)?);
        if self.durations.is_empty() {
            (self.first_ns, self.last_ns) = (start_ns, end_ns);
        } else {
            self.first_ns = self.first_ns.min(start_ns);
            self.last_ns = self.last_ns.max(end_ns);
        }
        self.durations.push(row.get(1)?);
        let workflow = row.get_ref(2)?.as_str_or_null()?.unwrap_or_default();
        if !self.workflows.contains(workflow) {
            self.workflows.insert(workflow.to_owned());
        }
        if let Some(session) = row.get_ref(3)?.as_str_or_null()? {
            if !self.sessions.contains(session) {
                self.sessions.insert(session.to_owned());
            }
        }
        self.spans += row.get::<_, i64>(4)?;
        self.errors += i64::from(row.get::<_, bool>(5)?);
        self.input_tokens += row.get::<_, i64>(6)?;
        self.output_tokens += row.get::<_, i64>(7)?;
        if let Some(cost) = row.get::<_, Option<Nanos>>(10)? {
            self.cost = Some(self.cost.unwrap_or(0).saturating_add(cost));
        }
        self.unpriced_spans += row.get::<_, i64>(11)?;
        let probability = row
            .get::<_, Option<f64>>(12)
            .ok()
            .flatten()
            .filter(|p| *p > 0.0 && *p <= 1.0)
            .unwrap_or(1.0);
        let tail_kept = row.get::<_, Option<bool>>(13).ok().flatten() == Some(true);
        if !tail_kept {
            self.estimated += 1.0 / probability;
        }
        Ok(())
    }
}

/// Tokens, cost and calls from the usage metrics.
fn apply_usage(user: &mut UserStats, u: &super::UsageTotals) {
    user.input_tokens = u.input_tokens;
    user.output_tokens = u.output_tokens;
    user.cost_usd = u.cost_nanos.map(nanos_to_usd);
    user.unpriced_spans = u.unpriced_series;
    user.usage_source = "usage";
    user.llm_calls = Some(u.calls);
    user.llm_errors = Some(u.failed_calls);
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Store {
    /// Usage per end-user over the traces `filter` selects.
    pub fn users(&self, filter: &Filter, sort: UserSort) -> Result<UsersReport, StoreError> {
        let condition = self.compile(filter)?;
        let params = || params_from_iter(condition.params.iter());

        // One pass over the matching traces that have an end-user.
        let mut tallies: HashMap<String, Tally> = HashMap::new();
        {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT t.end_user, t.duration_ns, t.workflow, t.session, t.span_count,
                        t.status = 'error', t.input_tokens, t.output_tokens, t.start_ns, t.end_ns,
                        t.cost_nanos, t.unpriced_spans,
                        json_extract(r.attributes, '$.\"{probability}\"'),
                        json_extract(r.attributes, '$.\"{tail_kept}\"')
                 FROM traces t
                 LEFT JOIN spans r ON r.trace_id = t.trace_id AND r.span_id = t.root_span_id
                 WHERE t.end_user IS NOT NULL AND {}",
                condition.sql,
                probability = neatlogs::wire::span::SAMPLING_PROBABILITY,
                tail_kept = neatlogs::wire::span::TAIL_KEPT,
            ))?;
            let mut rows = stmt.query(params())?;
            while let Some(row) = rows.next()? {
                let user = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                let tally = match tallies.get_mut(user) {
                    Some(tally) => tally,
                    None => tallies.entry(user.to_owned()).or_default(),
                };
                tally.add(row)?;
            }
        }

        // Latest metadata per (end-user, workflow) from the catalogue.
        let mut catalogue: HashMap<String, Vec<(String, i64, String)>> = HashMap::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT end_user, workflow, metadata_at_ns, metadata FROM end_users
                 WHERE metadata IS NOT NULL",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                catalogue.entry(row.get(0)?).or_default().push((
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                ));
            }
        }

        let mut users: Vec<UserStats> = tallies
            .into_iter()
            .map(|(end_user, mut tally)| {
                tally.durations.sort_unstable();
                let metadata = catalogue.get(&end_user).and_then(|entries| {
                    entries
                        .iter()
                        .filter(|(workflow, _, _)| tally.workflows.contains(workflow))
                        .max_by_key(|(_, at, _)| *at)
                        .and_then(|(_, _, m)| serde_json::from_str(m).ok())
                });
                UserStats {
                    end_user,
                    traces: tally.durations.len() as i64,
                    traces_estimated: tally.estimated,
                    sessions: tally.sessions.len() as i64,
                    spans: tally.spans,
                    errors: tally.errors,
                    input_tokens: tally.input_tokens,
                    output_tokens: tally.output_tokens,
                    cost_usd: tally.cost.map(nanos_to_usd),
                    unpriced_spans: tally.unpriced_spans,
                    usage_source: "traces",
                    llm_calls: None,
                    llm_errors: None,
                    p50_ms: percentile(&tally.durations, 0.50) as f64 / 1e6,
                    p95_ms: percentile(&tally.durations, 0.95) as f64 / 1e6,
                    first_seen: time::rfc3339(tally.first_ns),
                    last_seen: time::rfc3339(tally.last_ns),
                    workflows: tally
                        .workflows
                        .into_iter()
                        .filter(|w| !w.is_empty())
                        .collect(),
                    metadata,
                    first_seen_ns: tally.first_ns,
                    last_seen_ns: tally.last_ns,
                }
            })
            .collect();

        // Unfiltered, the usage metrics give the exact tokens and cost
        // (they count the calls of traces that were not sampled); an
        // end-user seen only there gets a row with no stored trace.
        if filter.clauses.is_empty() {
            let mut usage = self.usage_by_end_user()?;
            for user in &mut users {
                if let Some(u) = usage.remove(&user.end_user) {
                    apply_usage(user, &u);
                }
            }
            for (end_user, u) in usage {
                let mut user = UserStats {
                    end_user,
                    traces: 0,
                    traces_estimated: 0.0,
                    sessions: 0,
                    spans: 0,
                    errors: 0,
                    input_tokens: 0,
                    output_tokens: 0,
                    cost_usd: None,
                    unpriced_spans: 0,
                    usage_source: "traces",
                    llm_calls: None,
                    llm_errors: None,
                    p50_ms: 0.0,
                    p95_ms: 0.0,
                    first_seen: time::rfc3339(u.first_ns),
                    last_seen: time::rfc3339(u.last_ns),
                    workflows: Vec::new(),
                    metadata: None,
                    first_seen_ns: u.first_ns,
                    last_seen_ns: u.last_ns,
                };
                apply_usage(&mut user, &u);
                users.push(user);
            }
        }

        users.sort_by(|a, b| {
            let tokens = |u: &UserStats| u.input_tokens + u.output_tokens;
            let order = match sort {
                UserSort::LastSeen => b.last_seen_ns.cmp(&a.last_seen_ns),
                UserSort::FirstSeen => a.first_seen_ns.cmp(&b.first_seen_ns),
                UserSort::Tokens => tokens(b).cmp(&tokens(a)),
                UserSort::Cost => match (a.cost_usd, b.cost_usd) {
                    (Some(a), Some(b)) => b.total_cmp(&a),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                },
                UserSort::Traces => b.traces.cmp(&a.traces),
                UserSort::Sessions => b.sessions.cmp(&a.sessions),
                UserSort::Spans => b.spans.cmp(&a.spans),
                UserSort::Errors => b.errors.cmp(&a.errors),
                UserSort::P95 => b.p95_ms.total_cmp(&a.p95_ms),
                UserSort::EndUser => std::cmp::Ordering::Equal,
            };
            order.then_with(|| a.end_user.cmp(&b.end_user))
        });

        let traces_without_end_user: i64 = self
            .conn
            .prepare(&format!(
                "SELECT COUNT(*) FROM traces t WHERE t.end_user IS NULL AND {}",
                condition.sql
            ))?
            .query_row(params(), |r| r.get(0))?;

        Ok(UsersReport {
            users,
            traces_without_end_user,
        })
    }

    /// Sessions that have a turn matching `filter`, most recent first, each
    /// summarised over all of its turns.
    pub fn sessions(&self, filter: &Filter, limit: u32) -> Result<Vec<SessionStats>, StoreError> {
        let condition = self.compile(filter)?;
        let selected = format!(
            "SELECT DISTINCT t.session FROM traces t WHERE t.session IS NOT NULL AND {}",
            condition.sql
        );
        let mut stmt = self.conn.prepare(&format!(
            "SELECT s.session, COUNT(*), SUM(s.span_count), SUM(s.status = 'error'),
                    SUM(s.input_tokens), SUM(s.output_tokens), MIN(s.start_ns), MAX(s.start_ns),
                    COUNT(*) FILTER (WHERE s.end_user IS NULL), SUM(s.cost_nanos)
             FROM traces s WHERE s.session IN ({selected})
             GROUP BY s.session ORDER BY MAX(s.start_ns) DESC, s.session LIMIT ?"
        ))?;
        let mut params: Vec<SqlValue> = condition
            .params
            .iter()
            .cloned()
            .map(SqlValue::Text)
            .collect();
        params.push(SqlValue::Integer(limit.into()));
        let mut sessions = stmt
            .query_map(params_from_iter(params), |row| {
                let first: i64 = row.get(6)?;
                let last: i64 = row.get(7)?;
                Ok(SessionStats {
                    session: row.get(0)?,
                    end_user: None,
                    end_users: Vec::new(),
                    end_user_conflict: false,
                    turns_without_end_user: row.get(8)?,
                    turns: row.get(1)?,
                    spans: row.get(2)?,
                    errors: row.get(3)?,
                    input_tokens: row.get(4)?,
                    output_tokens: row.get(5)?,
                    cost_usd: row.get::<_, Option<Nanos>>(9)?.map(nanos_to_usd),
                    workflows: Vec::new(),
                    first_turn: time::rfc3339(first),
                    last_turn: time::rfc3339(last),
                    first_turn_ns: first,
                    last_turn_ns: last,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;

        let mut per_user: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
        let mut per_workflow: HashMap<String, BTreeSet<String>> = HashMap::new();
        {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT s.session, s.end_user, s.workflow, COUNT(*) FROM traces s
                 WHERE s.session IN ({selected}) GROUP BY s.session, s.end_user, s.workflow"
            ))?;
            let mut rows = stmt.query(params_from_iter(condition.params.iter()))?;
            while let Some(row) = rows.next()? {
                let session: String = row.get(0)?;
                let user: Option<String> = row.get(1)?;
                let workflow: Option<String> = row.get(2)?;
                let count: i64 = row.get(3)?;
                if let Some(user) = user {
                    *per_user
                        .entry(session.clone())
                        .or_default()
                        .entry(user)
                        .or_default() += count;
                }
                if let Some(workflow) = workflow {
                    per_workflow.entry(session).or_default().insert(workflow);
                }
            }
        }
        for s in &mut sessions {
            let users = per_user.remove(&s.session).unwrap_or_default();
            s.end_user = users
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(u, _)| u.clone());
            s.end_user_conflict = users.len() > 1;
            s.end_users = users.into_keys().collect();
            s.workflows = per_workflow
                .remove(&s.session)
                .unwrap_or_default()
                .into_iter()
                .collect();
        }
        Ok(sessions)
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank() {
        let v: Vec<i64> = (1..=20).collect();
        assert_eq!(percentile(&v, 0.5), 10);
        assert_eq!(percentile(&v, 0.95), 19);
        assert_eq!(percentile(&[7], 0.95), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
