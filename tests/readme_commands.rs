//! README.md true by construction: every command block (a fenced block with lines starting with
//! `$ `) is run here, each command in a fresh directory with the built `rtmp-probe` first on
//! PATH, and its output compared with the lines the block shows after it. Both sides are
//! normalised first (see [`normalise`]: times, durations, rates, ports), and a `...` line in the
//! block stands for any number of lines. A block that cannot run (a measured load, a benchmark)
//! says why in an HTML comment right before it, `<!-- not run: REASON -->`, and
//! [`every_command_block_is_run_or_says_why_not`] checks that every other block is one of the
//! tests here.
//!
//! What a block needs is read from it: the programs its commands start (ffmpeg, tshark, man)
//! and the shared captures they name become the test's needs (ignored where missing, a failure
//! under CI's `RTMP_PROBE_REQUIRE_*`). A comment `<!-- readme-test: KEY: VALUE; ... -->` right
//! before a block says the rest:
//!
//! - `output of: N`: the lines the block shows are what its Nth command (a server) printed; it
//!   runs in the background while the others run, and is stopped with SIGINT after them;
//! - `listener: PORT`: a TCP listener on PORT that accepts and never answers;
//! - `nginx: PORT`: nginx with the RTMP module on PORT (`application live`);
//! - `continues`: the previous block's commands run first, in the same directory.
//!
//! A command ending with `&` runs in the background until the block ends. `$ cat FILE` of a file
//! the block does not make writes FILE from the lines shown. Ports in the commands are replaced
//! by free ones (and back in the output), so blocks run in parallel.
//!
//! `RTMP_PROBE_UPDATE_README=1 cargo test --test readme_commands` writes what each failing
//! block's commands print into README.md instead of failing, keeping the block's `...` where
//! the lines they stood for still are: for the lead after a change of output; review the diff.

mod support;

use similar::{Algorithm, DiffOp};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::trials::{Need, Test};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const UPDATE: &str = "RTMP_PROBE_UPDATE_README";
/// How long one foreground command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(120);

fn readme() -> String {
    std::fs::read_to_string(README).expect("README.md")
}

/// One `$ ` command and the lines the block shows after it.
#[derive(Debug, Clone)]
struct Step {
    command: String,
    shown: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Directives {
    output_of: Option<usize>,
    listeners: Vec<u16>,
    nginx: Option<u16>,
    continues: bool,
}

#[derive(Debug, Clone)]
struct Block {
    /// Its place among the README's command blocks, from 0.
    ordinal: usize,
    /// The line of its opening fence, from 1.
    line: usize,
    steps: Vec<Step>,
    not_run: Option<String>,
    directives: Directives,
}

/// The command blocks of `text`, in order.
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with("```") {
            i += 1;
            continue;
        }
        let open = i;
        let close = (open + 1..lines.len())
            .find(|&j| lines[j] == "```")
            .unwrap_or_else(|| panic!("README.md:{}: a block is not closed", open + 1));
        let body = &lines[open + 1..close];
        i = close + 1;
        if !body.iter().any(|l| l.starts_with("$ ")) {
            continue;
        }
        assert!(
            body[0].starts_with("$ "),
            "README.md:{}: a command block starts with its first command",
            open + 2
        );
        let mut steps: Vec<Step> = Vec::new();
        for line in body {
            match line.strip_prefix("$ ") {
                Some(command) => steps.push(Step {
                    command: command.to_string(),
                    shown: Vec::new(),
                }),
                None => steps
                    .last_mut()
                    .expect("a first command")
                    .shown
                    .push(line.to_string()),
            }
        }
        let (not_run, directives) = comments_before(&lines, open);
        out.push(Block {
            ordinal: out.len(),
            line: open + 1,
            steps,
            not_run,
            directives,
        });
    }
    out
}

/// The `not run` reason and the directives of the HTML comments right before line `open`.
fn comments_before(lines: &[&str], open: usize) -> (Option<String>, Directives) {
    let mut not_run = None;
    let mut directives = Directives::default();
    let mut at = open;
    while at > 0 {
        at -= 1;
        let line = lines[at].trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line
            .strip_prefix("<!--")
            .and_then(|l| l.strip_suffix("-->"))
        else {
            break;
        };
        let comment = comment.trim();
        if let Some(reason) = comment.strip_prefix("not run:") {
            not_run = Some(reason.trim().to_string());
        } else if let Some(list) = comment.strip_prefix("readme-test:") {
            for item in list.split(';').map(str::trim).filter(|i| !i.is_empty()) {
                let (key, value) = item.split_once(':').unwrap_or((item, ""));
                let value = value.trim();
                let number = || {
                    value
                        .parse()
                        .unwrap_or_else(|_| panic!("README.md:{}: `{item}`", at + 1))
                };
                match key.trim() {
                    "output of" => directives.output_of = Some(number()),
                    "listener" => directives.listeners.push(number() as u16),
                    "nginx" => directives.nginx = Some(number() as u16),
                    "continues" => directives.continues = true,
                    other => panic!("README.md:{}: unknown readme-test key `{other}`", at + 1),
                }
            }
        } else {
            break;
        }
    }
    (not_run, directives)
}

/// The programs a command line starts (the first word of each part of a pipeline or list,
/// after any `VAR=value`).
fn programs(command: &str) -> Vec<String> {
    command
        .split(['|', ';', '&'])
        .filter_map(|part| {
            part.split_whitespace()
                .find(|w| !w.contains('='))
                .map(str::to_string)
        })
        .collect()
}

/// The shared captures a block's commands name by their file name.
fn shared_captures(block: &Block) -> Vec<&'static str> {
    support::SHARED_CAPTURES
        .iter()
        .copied()
        .filter(|relative| {
            let name = relative.rsplit('/').next().unwrap_or(relative);
            block.steps.iter().any(|s| {
                s.command
                    .split_whitespace()
                    .any(|w| w == name || w.ends_with(&format!("/{name}")))
            })
        })
        .collect()
}

fn needs(block: &Block, previous: Option<&Block>) -> Vec<Need> {
    let mut needs = Vec::new();
    for b in previous.into_iter().chain([block]) {
        for step in &b.steps {
            for program in programs(&step.command) {
                let need = match program.as_str() {
                    "ffmpeg" => Need::Program("ffmpeg"),
                    "tshark" => Need::Program("tshark"),
                    "man" => Need::Program("man"),
                    _ => continue,
                };
                if !needs
                    .iter()
                    .any(|n| format!("{n:?}") == format!("{need:?}"))
                {
                    needs.push(need);
                }
            }
        }
        for capture in shared_captures(b) {
            needs.push(Need::SharedCapture(capture));
        }
    }
    if block.directives.nginx.is_some() {
        needs.push(Need::NginxRtmp);
    }
    needs
}

/// `text` with every whole number `from` replaced by `to`.
fn replace_number(text: &str, from: u16, to: u16) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        out.push_str(if digits == from { &to } else { &digits });
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// The ports a block's commands use (after `127.0.0.1:` or `tcp.port==`), and its directives'.
fn ports(block: &Block) -> Vec<u16> {
    let mut found: Vec<u16> = block.directives.listeners.clone();
    found.extend(block.directives.nginx);
    for step in &block.steps {
        for marker in ["127.0.0.1:", "tcp.port=="] {
            for (at, _) in step.command.match_indices(marker) {
                let digits: String = step.command[at + marker.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(port) = digits.parse() {
                    found.push(port);
                }
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Lines that look like matrix's progress on a pipe (`[ 1/12] wirecast/default ... fail`).
fn is_progress(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('[')
        && line
            .split_once(']')
            .is_some_and(|(count, rest)| count.contains('/') && rest.contains(" ... "))
}

/// Splits a token into what comes before a number, the number and what follows it.
fn number_in(token: &str) -> Option<(&str, &str, &str)> {
    let start = token.find(|c: char| c.is_ascii_digit())?;
    let start = if start > 0 && matches!(&token[start - 1..start], "-" | "+") {
        start - 1
    } else {
        start
    };
    let rest = &token[start..];
    let len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(rest.len(), |(i, _)| i);
    let number = rest[..len].trim_end_matches('.');
    number
        .parse::<f64>()
        .ok()
        .map(|_| (&token[..start], number, &rest[number.len()..]))
}

/// The JSON fields whose values are times of the run.
const TIMED_FIELDS: [&str; 9] = [
    "at_us",
    "elapsed_s",
    "handshakes_per_s",
    "duration_ms",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "connect_result_ms",
    "handshake_read_gaps_ms",
];

/// What may differ between two runs of the same command, replaced by a placeholder: times and
/// durations with a fraction (`0.252 ms`, `5.02 s`), rates (`4042.7 /s`), ports of addresses,
/// capture-frame times and ports of tshark, read gaps, the timed fields of JSON lines; and
/// runs of spaces (column widths follow the times). Counts, names and ids stay.
fn normalise(line: &str) -> String {
    let mut line = line.to_string();
    for field in TIMED_FIELDS {
        let key = format!("\"{field}\":");
        let mut from = 0;
        while let Some(at) = line[from..].find(&key).map(|i| i + from) {
            let value_at = at + key.len();
            let rest = &line[value_at..];
            let len = if rest.starts_with('[') {
                rest.find(']').map_or(rest.len(), |i| i + 1)
            } else {
                rest.find([',', '}']).unwrap_or(rest.len())
            };
            line.replace_range(value_at..value_at + len, "<n>");
            from = value_at + 3;
        }
    }
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let next = tokens.get(i + 1).copied().unwrap_or("");
        let unit = |u: &str| {
            next.strip_prefix(u)
                .is_some_and(|rest| rest.chars().all(|c| !c.is_alphanumeric()))
        };
        if i >= 2
            && tokens[i - 2].ends_with("gaps")
            && tokens[i - 1] == "ms"
            && token.starts_with('[')
        {
            // `(gaps ms [20.0, 0.1])`: the list's numbers.
            let mut end = i;
            while end < tokens.len() && !tokens[end].contains(']') {
                end += 1;
            }
            let last = tokens.get(end).copied().unwrap_or("]");
            out.push(format!("[<ms>{}", &last[last.find(']').unwrap_or(0)..]));
            i = end + 1;
            continue;
        }
        let replaced = match number_in(token) {
            Some((before, number, after))
                if number.contains('.') && (unit("ms") || unit("s") || unit("µs")) =>
            {
                Some(format!("{before}<t>{after}"))
            }
            Some((before, _, after)) if next == "/s" => Some(format!("{before}<rate>{after}")),
            // tshark's frame times (`0.000245`) and its `PORT → PORT`.
            Some((before, number, after))
                if number.split_once('.').is_some_and(|(_, f)| f.len() == 6) =>
            {
                Some(format!("{before}<t>{after}"))
            }
            Some((before, _, after))
                if (next == "→" || tokens.get(i.wrapping_sub(1)) == Some(&"→"))
                    && !before.contains('.') =>
            {
                Some(format!("{before}<port>{after}"))
            }
            _ => None,
        };
        out.push(replaced.unwrap_or_else(|| redact_ports(token)));
        i += 1;
    }
    out.join(" ")
}

/// `127.0.0.1:41584` -> `127.0.0.1:<port>`, `[::1]:5000` -> `[::1]:<port>`.
fn redact_ports(token: &str) -> String {
    let mut out = String::new();
    let mut rest = token;
    while let Some(at) = rest.find(':') {
        let (head, tail) = rest.split_at(at);
        let host_is_address = head.ends_with(']')
            || head
                .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
                .next()
                .is_some_and(|h| h.split('.').count() == 4 && h.split('.').all(|p| !p.is_empty()));
        let digits = tail[1..].chars().take_while(char::is_ascii_digit).count();
        out.push_str(head);
        if host_is_address && digits > 0 {
            out.push_str(":<port>");
            rest = &tail[1 + digits..];
        } else {
            out.push(':');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether `actual` is what `expected` shows, a `...` line standing for any lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    let (n, m) = (expected.len(), actual.len());
    let mut next = vec![false; m + 1];
    next[m] = true;
    for i in (0..n).rev() {
        let mut here = vec![false; m + 1];
        for j in (0..=m).rev() {
            here[j] = if expected[i] == "..." {
                next[j] || (j < m && here[j + 1])
            } else {
                j < m && expected[i] == actual[j] && next[j + 1]
            };
        }
        next = here;
    }
    next[0]
}

fn trimmed(lines: &[String]) -> &[String] {
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    &lines[..end]
}

/// Marks the start of each command's output in the session's standard output.
const MARK: &str = "\u{1}readme-step ";

/// The session's helper: waits (at most 10 s) until something listens on TCP port $1, from
/// the kernel's tables (a connection would be spent: `ffmpeg -listen 1` serves only one).
const PRELUDE: &str = r#"__wait_port() {
  local hex; hex=$(printf ':%04X' "$1")
  for _ in $(seq 500); do
    awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" { found = 1 } END { exit !found }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
    sleep 0.02
  done
  echo "nothing listens on port $1" >&2; return 1
}
"#;

/// One block run as one shell session, as a reader would type it.
struct Run {
    dir: tempfile::TempDir,
    bin: tempfile::TempDir,
    /// README's port -> the port used here.
    ports: BTreeMap<u16, u16>,
    _listeners: Vec<std::net::TcpListener>,
    _nginx: Option<support::Nginx>,
}

impl Run {
    fn new(block: &Block) -> Run {
        let dir = tempfile::tempdir().expect("a directory for the block");
        let bin = tempfile::tempdir().expect("a directory for the binary");
        std::os::unix::fs::symlink(support::RTMP_PROBE, bin.path().join("rtmp-probe"))
            .expect("linking rtmp-probe");
        let nginx = block.directives.nginx.map(|_| support::Nginx::start(""));
        let mut mapped = BTreeMap::new();
        for port in ports(block) {
            let here = match (&nginx, block.directives.nginx) {
                (Some(nginx), Some(p)) if p == port => nginx.addr.port(),
                _ => support::free_port(),
            };
            mapped.insert(port, here);
        }
        let listeners = block
            .directives
            .listeners
            .iter()
            .map(|p| std::net::TcpListener::bind(("127.0.0.1", mapped[p])).expect("a listener"))
            .collect();
        Run {
            dir,
            bin,
            ports: mapped,
            _listeners: listeners,
            _nginx: nginx,
        }
    }

    fn link_captures(&self, block: &Block) {
        for relative in shared_captures(block) {
            let name = relative.rsplit('/').next().unwrap_or(relative);
            let link = self.dir.path().join(name);
            if !link.exists() {
                std::os::unix::fs::symlink(support::shared_capture(relative), link)
                    .expect("linking a shared capture");
            }
        }
    }

    fn command(&self, command: &str) -> String {
        self.ports
            .iter()
            .fold(command.to_string(), |c, (&from, &to)| {
                replace_number(&c, from, to)
            })
    }

    /// The first port a command names after `127.0.0.1:`, as used here.
    fn port_of(command: &str) -> Option<u16> {
        let at = command.find("127.0.0.1:")? + "127.0.0.1:".len();
        command[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    }

    /// The output as README would show it: the README's ports back in place.
    fn readme_output(&self, output: &str) -> Vec<String> {
        let output = self
            .ports
            .iter()
            .fold(output.to_string(), |o, (&readme, &here)| {
                replace_number(&o, here, readme)
            });
        output.lines().map(str::to_string).collect()
    }

    /// Runs `script` in bash in the block's directory, `rtmp-probe` first on PATH; what it
    /// printed on standard output (bounded in time).
    fn session(&self, script: &str, limit: Duration) -> String {
        let path = format!(
            "{}:{}",
            self.bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut child = Command::new("bash")
            .args(["-c", script])
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running bash");
        let mut stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        let started = Instant::now();
        while child.try_wait().expect("waiting for bash").is_none() {
            if started.elapsed() > limit {
                let _ = child.kill();
                panic!("the block's commands did not finish within {limit:?}:\n{script}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned()
    }
}

/// What each command of the block printed (None: not compared, a background command).
type Printed = Vec<Option<Vec<String>>>;

/// Runs the block's commands in one shell session (after the previous block's, when it
/// continues it): each command's output, both streams as a terminal shows them.
fn run(block: &Block, previous: Option<&Block>) -> Printed {
    let run = Run::new(block);
    let mut script = String::from(PRELUDE);
    if let Some(previous) = previous {
        // What it made (files) is what this block reads; it serves no port of its own.
        assert!(
            ports(previous).is_empty(),
            "a block that continues one with ports"
        );
        run.link_captures(previous);
        for step in &previous.steps {
            script.push_str(&format!("{{ {}\n}} >/dev/null 2>&1\n", step.command));
        }
    }
    run.link_captures(block);
    for (i, step) in block.steps.iter().enumerate() {
        let number = i + 1;
        if let Some(file) = step.command.strip_prefix("cat ") {
            let path = run.dir.path().join(file.trim());
            if !path.exists() {
                let mut content = step.shown.join("\n");
                content.push('\n');
                std::fs::write(&path, content).expect("writing the file the block shows");
            }
        }
        let command = run.command(&step.command);
        script.push_str(&format!("printf '%s\\n' '{MARK}{number}'\n"));
        let background = command.trim_end().ends_with('&');
        if block.directives.output_of == Some(number) {
            // The server of a second terminal: its output into a file, SIGINT at the end.
            let command = command.trim_end().trim_end_matches('&');
            script.push_str(&format!(
                "{{ exec {command}\n}} > .shown-{number} 2>&1 &\n__shown=$!\n"
            ));
        } else {
            script.push_str(&format!("{{ {command}\n}} 2>&1\n"));
        }
        if background || block.directives.output_of == Some(number) {
            if let Some(port) = Run::port_of(&command) {
                script.push_str(&format!("__wait_port {port}\n"));
            }
        }
    }
    script.push_str(&format!("printf '%s\\n' '{MARK}end'\n"));
    if block.directives.output_of.is_some() {
        script.push_str("kill -INT $__shown; wait $__shown\n");
    }
    script.push_str("kill $(jobs -p) 2>/dev/null; wait 2>/dev/null\nexit 0\n");
    let limit = COMMAND_LIMIT * (block.steps.len() as u32 + 1);
    let out = run.session(&script, limit);
    let mut printed: Printed = vec![None; block.steps.len()];
    let mut current: Option<usize> = None;
    let mut lines: Vec<String> = Vec::new();
    for line in out.lines().chain(std::iter::once("")) {
        let Some(mark) = line.strip_prefix(MARK) else {
            lines.push(line.to_string());
            continue;
        };
        if let Some(n) = current {
            let background = block.steps[n - 1].command.trim_end().ends_with('&')
                || block.directives.output_of == Some(n);
            if !background {
                printed[n - 1] = Some(run.readme_output(&lines.join("\n")));
            }
        }
        lines.clear();
        current = mark.parse().ok();
    }
    if let Some(n) = block.directives.output_of {
        let shown =
            std::fs::read_to_string(run.dir.path().join(format!(".shown-{n}"))).unwrap_or_default();
        printed[n - 1] = Some(run.readme_output(&shown));
    }
    printed
}

/// What each compared command should print: its own lines, or, for `output of`, all of them.
fn expected(block: &Block) -> Vec<(usize, Vec<String>)> {
    match block.directives.output_of {
        Some(n) => vec![(
            n - 1,
            block.steps.iter().flat_map(|s| s.shown.clone()).collect(),
        )],
        None => block
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.command.trim_end().ends_with('&'))
            .map(|(i, s)| (i, s.shown.clone()))
            .collect(),
    }
}

/// `actual` without progress lines when the block shows none (a terminal clears its bar).
fn comparable(expected: &[String], actual: &[String]) -> Vec<String> {
    let shows_progress = expected.iter().any(|l| is_progress(l));
    actual
        .iter()
        .filter(|l| shows_progress || !is_progress(l))
        .cloned()
        .collect()
}

/// The README's lines for a command whose output changed: the actual lines, with the block's
/// `...` kept where the lines it stood for still are, and the block's own lines where they
/// still match (so times that only moved do not churn).
fn updated(shown: &[String], actual: &[String]) -> Vec<String> {
    let concrete: Vec<usize> = (0..shown.len()).filter(|&i| shown[i] != "...").collect();
    let old: Vec<String> = concrete.iter().map(|&i| normalise(&shown[i])).collect();
    let new: Vec<String> = actual.iter().map(|l| normalise(l)).collect();
    // dots[k]: a `...` stands right before the kth concrete line (k == len: at the end).
    let mut dots = vec![false; concrete.len() + 1];
    let mut k = 0;
    for line in shown {
        if line == "..." {
            dots[k] = true;
        } else {
            k += 1;
        }
    }
    let mut out = Vec::new();
    let mut dots_done = vec![false; concrete.len() + 1];
    let mut put_dots = |out: &mut Vec<String>, k: usize| {
        if dots[k] && !dots_done[k] {
            dots_done[k] = true;
            out.push("...".to_string());
        }
    };
    for op in similar::capture_diff_slices(Algorithm::Myers, &old, &new) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                for k in old_index..old_index + len {
                    put_dots(&mut out, k);
                    out.push(shown[concrete[k]].clone());
                }
            }
            DiffOp::Delete { old_index, .. } => put_dots(&mut out, old_index),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => {
                if dots[old_index] {
                    put_dots(&mut out, old_index);
                } else {
                    out.extend_from_slice(&actual[new_index..new_index + new_len]);
                }
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                // Where a `...` borders the replaced lines, as many new lines as the block had
                // take their place and the `...` stands for the rest.
                let keep = old_len.min(new_len);
                let new_lines = &actual[new_index..new_index + new_len];
                if dots[old_index + old_len] && !dots[old_index] {
                    out.extend_from_slice(&new_lines[..keep]);
                    put_dots(&mut out, old_index + old_len);
                } else if dots[old_index] {
                    put_dots(&mut out, old_index);
                    out.extend_from_slice(&new_lines[new_len - keep..]);
                } else {
                    out.extend_from_slice(new_lines);
                }
            }
        }
    }
    put_dots(&mut out, concrete.len());
    out
}

/// README.md is rewritten by one block at a time.
static README_LOCK: Mutex<()> = Mutex::new(());

/// Writes `lines` as the shown lines of command `step` of block `ordinal` (for `output of`
/// blocks, of the command whose lines the block shows last), re-reading README.md first.
fn write_back(ordinal: usize, step: usize, output_of: bool, lines: Vec<String>) {
    let _held = README_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let text = readme();
    let block = blocks(&text)
        .into_iter()
        .nth(ordinal)
        .expect("the block is still there");
    let mut steps = block.steps.clone();
    if output_of {
        let last = steps
            .iter()
            .rposition(|s| !s.shown.is_empty())
            .unwrap_or(step);
        for s in &mut steps {
            s.shown.clear();
        }
        steps[last].shown = lines;
    } else {
        steps[step].shown = lines;
    }
    let mut all: Vec<String> = text.lines().map(str::to_string).collect();
    let body_start = block.line;
    let body_end = (body_start..all.len())
        .find(|&j| all[j] == "```")
        .expect("the block's end");
    let body: Vec<String> = steps
        .iter()
        .flat_map(|s| std::iter::once(format!("$ {}", s.command)).chain(s.shown.clone()))
        .collect();
    all.splice(body_start..body_end, body);
    let mut new = all.join("\n");
    new.push('\n');
    std::fs::write(README, new).expect("writing README.md");
}

/// Runs one block and compares; with RTMP_PROBE_UPDATE_README=1 writes what differs instead.
fn check(block: &Block, previous: Option<&Block>) {
    let printed = run(block, previous);
    let update = std::env::var(UPDATE).as_deref() == Ok("1");
    let mut failures = Vec::new();
    let mut compared = 0;
    for (step, shown) in expected(block) {
        let Some(actual) = &printed[step] else {
            continue;
        };
        compared += 1;
        let actual = comparable(&shown, actual);
        let want: Vec<String> = trimmed(&shown).iter().map(|l| normalise(l)).collect();
        let got: Vec<String> = trimmed(&actual).iter().map(|l| normalise(l)).collect();
        if matches(&want, &got) {
            continue;
        }
        let command = &block.steps[step].command;
        if update {
            let new = updated(trimmed(&shown), trimmed(&actual));
            write_back(
                block.ordinal,
                step,
                block.directives.output_of.is_some(),
                new,
            );
            continue;
        }
        let (want_refs, got_refs): (Vec<&str>, Vec<&str>) = (
            want.iter().map(String::as_str).collect(),
            got.iter().map(String::as_str).collect(),
        );
        let diff = similar::TextDiff::from_slices(&want_refs, &got_refs)
            .unified_diff()
            .header("README (normalised)", "printed (normalised)")
            .to_string();
        failures.push(format!(
            "README.md:{}: `$ {command}` printed something else ({UPDATE}=1 writes it in):\n{diff}",
            block.line
        ));
    }
    assert!(
        compared > 0,
        "README.md:{}: the block has nothing to compare",
        block.line
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every command block runs here or says why not, and a `not run` comment stands before a
/// command block: the counts are printed.
fn every_command_block_is_run_or_says_why_not() {
    let text = readme();
    let all = blocks(&text);
    let marked: Vec<&Block> = all.iter().filter(|b| b.not_run.is_some()).collect();
    for block in &marked {
        assert!(
            !block.not_run.as_deref().unwrap_or_default().is_empty(),
            "README.md:{}: `not run` without a reason",
            block.line
        );
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("<!-- not run:"))
            .count(),
        marked.len(),
        "a `not run` comment that stands before no command block"
    );
    for block in all.iter().filter(|b| b.not_run.is_none()) {
        assert!(
            !expected(block).is_empty(),
            "README.md:{}: nothing to compare",
            block.line
        );
        if let Some(n) = block.directives.output_of {
            assert!(n >= 1 && n <= block.steps.len(), "README.md:{}", block.line);
        }
        if block.directives.continues {
            assert!(block.ordinal > 0, "README.md:{}", block.line);
        }
    }
    let checked = all.len() - marked.len();
    assert!(checked > 0, "no command block to run");
    println!(
        "README.md: {} command blocks, {checked} run by this suite, {} marked `not run`",
        all.len(),
        marked.len()
    );
}

fn the_normaliser_keeps_what_matters_and_drops_what_changes() {
    assert_eq!(
        normalise("     0.252 ms  connected 127.0.0.1:34850 -> 127.0.0.1:19401"),
        "<t> ms connected 127.0.0.1:<port> -> 127.0.0.1:<port>"
    );
    assert_eq!(
        normalise("observations: handshake reads [1] (gaps ms [20.0, 1.5]), S1 version -"),
        "observations: handshake reads [1] (gaps ms [<ms>]), S1 version -"
    );
    assert_eq!(normalise("handshakes   4042.7 /s"), "handshakes <rate> /s");
    assert_eq!(
        normalise("{\"conn\":1,\"at_us\":412,\"event\":\"segment\",\"len\":1537}"),
        "{\"conn\":1,\"at_us\":<n>,\"event\":\"segment\",\"len\":1537}"
    );
    assert_eq!(
        normalise(
            "    5   0.000574    127.0.0.1 → 127.0.0.1    TCP 55 19371 → 40462 [PSH, ACK] Seq=1"
        ),
        "5 <t> 127.0.0.1 → 127.0.0.1 TCP 55 <port> → <port> [PSH, ACK] Seq=1"
    );
    // Counts, sizes and versions stay: they are what a README gets wrong.
    assert_eq!(normalise("84 cases: 72 pass"), "84 cases: 72 pass");
    assert_eq!(
        normalise("C1 time 0, version field 9.0.124.2"),
        "C1 time 0, version field 9.0.124.2"
    );
    assert_eq!(normalise("(+1.863 ms)"), "(<t> ms)");
    assert!(matches(
        &["a".into(), "...".into(), "d".into()],
        &["a".into(), "b".into(), "c".into(), "d".into()]
    ));
    assert!(!matches(
        &["a".into(), "d".into()],
        &["a".into(), "b".into(), "d".into()]
    ));
    assert_eq!(
        updated(
            &["a".into(), "...".into(), "d".into(), "e".into()],
            &["a".into(), "b".into(), "c".into(), "d".into(), "E".into()]
        ),
        ["a", "...", "d", "E"]
    );
}

fn main() {
    let text = readme();
    let all = blocks(&text);
    let mut tests = vec![Test {
        name: "every_command_block_is_run_or_says_why_not".into(),
        needs: Vec::new(),
        body: Box::new(every_command_block_is_run_or_says_why_not),
    }];
    tests.push(Test {
        name: "the_normaliser_keeps_what_matters_and_drops_what_changes".into(),
        needs: Vec::new(),
        body: Box::new(the_normaliser_keeps_what_matters_and_drops_what_changes),
    });
    for block in &all {
        if block.not_run.is_some() {
            continue;
        }
        let previous = block
            .directives
            .continues
            .then(|| all[block.ordinal - 1].clone());
        let slug: String = programs(&block.steps[0].command)
            .into_iter()
            .next()
            .unwrap_or_default();
        let words: Vec<&str> = block.steps[0].command.split_whitespace().take(3).collect();
        let name = format!(
            "block_{:02}_line_{}_{}",
            block.ordinal,
            block.line,
            words
                .iter()
                .skip(usize::from(slug == "rtmp-probe"))
                .take(2)
                .map(|w| w
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect::<String>())
                .collect::<Vec<_>>()
                .join("_")
        );
        let needs = needs(block, previous.as_ref());
        let block = block.clone();
        tests.push(Test {
            name,
            needs,
            body: Box::new(move || check(&block, previous.as_ref())),
        });
    }
    support::trials::run(tests)
}
