"""Every user-facing string of the bot and the CLI, so wording stays consistent and tests
assert on these constants."""

from __future__ import annotations

PROJECT_URL = "https://github.com/pystd-dev/pystd"
DOCS_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"


def rule_docs_url(code: str, name: str, public_url: str | None = None) -> str:
    """Link to a rule's page: the App's own `/rules/PYSxxx` when the server has a public URL
    (`PYSTD_PUBLIC_URL`), else the rule's section in docs/rules.md (GitHub's heading anchors).
    Every comment, annotation, SARIF `helpUri` and text-output link goes through here."""
    if public_url:
        return f"{public_url.rstrip('/')}/rules/{code}"
    return f"{DOCS_URL}#{code.lower()}-{name}"


# -- CLI ---------------------------------------------------------------------------------
CLI_NO_SUCH_PATH = "pystd: error: no such file or directory: {path}"
CLI_NOT_A_GIT_REPO = "pystd: error: --diff needs a git repository, and {path} is not inside one"
CLI_BAD_REF = "pystd: error: --diff {ref}: git cannot find that revision ({detail})"
CLI_UNKNOWN_CODE = "pystd: error: {option}: unknown rule code {code!r}"
CLI_UNKNOWN_RULE = "pystd: error: no rule {code!r}; `pystd rule` lists them"
CLI_CONFIG_ERROR = "pystd: error: {message}"
CLI_WORKER_CRASHED = "pystd: error: a worker process crashed; run with --jobs 1 to find the file"
CLI_BAD_JOBS = "--jobs takes a whole number of worker processes, 1 or more, not {value!r}"
CLI_BAD_WORKERS = "--workers takes a whole number of job workers, 1 or more, not {value!r}"
CLI_BAD_OUTPUT_FILE = "pystd: error: --output-file {path}: {reason}"
CLI_NOT_CHECKED = "pystd: could not check {path}: {reason}"
CLI_GIT_MISSING = "pystd: error: --diff needs git on PATH"

# -- pystd serve ---------------------------------------------------------------------------
SERVE_MISSING_SETTINGS = "pystd serve: cannot start: missing {names} (set them in the environment or .env, or set PYSTD_PUBLIC_URL to register the App from the server's /setup page)"
SERVE_BAD_KEY_FILE = "pystd serve: cannot start: cannot read PYSTD_PRIVATE_KEY_PATH {path}: {reason}"
SERVE_KEY_NOT_PEM = "pystd serve: cannot start: {name} is not a PEM private key (-----BEGIN ... PRIVATE KEY-----); a public key will not do"
SERVE_BAD_SETTING = "pystd serve: cannot start: {name}: {reason}"

# -- webhooks --------------------------------------------------------------------------------
WEBHOOK_BAD_SIGNATURE = "bad or missing X-Hub-Signature-256"
WEBHOOK_BAD_BODY = "malformed delivery: {reason}"
WEBHOOK_DUPLICATE = "duplicate delivery"
WEBHOOK_QUEUED = "queued"
WEBHOOK_IGNORED = "ignored"
WEBHOOK_PONG = "pong"

# -- check run and review ---------------------------------------------------------------------
CHECK_TITLE_CLEAN = "No problems found"
CHECK_TITLE_NOTHING = "Nothing to check"
CHECK_TITLE_RUNNING = "Checking changed files"
CHECK_TITLE_FAILED = "pystd could not finish"
CHECK_TITLE_STALE = "Superseded by a newer push"
CHECK_TITLE_NOT_CHECKED = "{count} file(s) could not be checked"
CHECK_TITLE_TRUNCATED = "Only GitHub's first 3000 files were checked"
SUMMARY_CLEAN = "pystd checked {files} changed file(s) and found nothing on the changed lines."
SUMMARY_GATE = "The check fails on findings at or above `{gate}` (`fail-on` in `[tool.pystd]`)."
SUMMARY_CONFIG_ERROR = (
    "**Configuration error** — the defaults were used instead: {error}"
)
SUMMARY_TRUNCATED = (
    "GitHub lists at most 3000 files of a pull request; files past that were not checked."
)
SUMMARY_SKIPPED_HEADER = "**Not checked**"
SUMMARY_FAILED = (
    "pystd could not finish this run, so nothing was judged.\n\n**Reason:** {reason}\n\n"
    "Comment `/pystd recheck` on the pull request to try again."
)
REASON_SHUTDOWN = "pystd was stopped (restart or deploy) while it was checking this commit"
SUMMARY_STALE = "A newer commit ({sha}) was pushed while this run was working; it is checked instead."
SKIP_NO_PATCH = "GitHub sent no diff for this file (binary or very large): checked whole, annotations only"
SKIP_REMOVED = "removed"
CHANGE_RULES_NOT_RUN = "(the change-level rules)"
ANNOTATION_FIX = "Suggested fix:\n{replacement}"
COMMENT_HEADER = "**[{code} {name}]({link})** ({severity}): {message}"
COMMENT_FOOTER = "<sub>pystd · silence with `{noqa}` · `/pystd recheck` to run again</sub>"
REVIEW_BODY = "pystd found {count} problem(s) on the lines this pull request changes."
REVIEW_OVERFLOW = (
    "{count} more finding(s) are not shown inline (at most {limit} comments per push, "
    "`max-comments`); they are all in the `pystd` check run's annotations:"
)
ENGINE_CRASHED = "the analysis process crashed on a file of this change; it has been restarted"

# -- health --------------------------------------------------------------------------------
HEALTH_KEY_REFUSED = (
    "GitHub refuses the App's JWT (answered {status}): PYSTD_PRIVATE_KEY does not belong to "
    "the App PYSTD_APP_ID, or the App was deleted"
)
HEALTH_GITHUB_UNREACHABLE = "GitHub could not be reached to check the App's key; retrying"

# -- webhook edge (hostile input) -----------------------------------------------------------
WEBHOOK_ENCODED_BODY = "Content-Encoding {encoding!r} is not accepted: send the body uncompressed"
WEBHOOK_UNSUPPORTED_TYPE = "Content-Type {content_type!r} is not accepted: send application/json"
WEBHOOK_TOO_LARGE = "the body exceeds {limit} bytes (GitHub caps webhook payloads at 25 MB)"
WEBHOOK_TOO_SLOW = "the body was not received within {seconds:g} s"
WEBHOOK_INTERNAL_ERROR = "pystd failed to handle this delivery; the error is in its log"
SERVE_BAD_KEY = "pystd serve: cannot start: {name} is not a usable RSA private key: {reason}"
SERVE_KEY_CORRUPT = "the PEM data is corrupt"
SERVE_KEY_ENCRYPTED = "it is encrypted; give it without a passphrase"
SERVE_KEY_NOT_RSA = "its type is {kind}, and GitHub Apps sign with RSA"

# -- flaky GitHub (check runs and reviews) ---------------------------------------------------
REVIEW_REFUSED = (
    "GitHub refused {count} inline comment(s) ({reason}); they are listed here instead:"
)
SUMMARY_REVIEW_NOT_POSTED = (
    "**The review could not be posted** ({reason}); the findings are in this check run's "
    "annotations."
)
CHECK_TITLE_SWEPT = "pystd did not finish in time"
SUMMARY_SWEPT = (
    "This run was still open {minutes:.0f} minute(s) after it started (the App restarted or "
    "GitHub could not be reached), so it was closed without a verdict.\n\n"
    "Comment `/pystd recheck` on the pull request to try again."
)

# -- rule policy (categories, default selection) -----------------------------------------
CLI_UNKNOWN_SELECTOR = "pystd: error: {option}: {problem}"

# -- engine pool --
FILE_CRASHED = (
    "the analysis process died on this file ({how}); it has been replaced and the other "
    "files were checked"
)
FILE_TIMED_OUT = "the analysis took longer than its time limit ({seconds:g} s, PYSTD_FILE_TIMEOUT) and was stopped"
FILE_OUT_OF_MEMORY = "the analysis needed more memory than a worker may use (PYSTD_WORKER_MEMORY_MB)"
CHANGE_RULES_FAILED = "the change-level rules could not run: {reason}"
FILE_ENGINE_ERROR = "the analysis failed on this file ({error}); please report it"
FILE_DROPPED_AFTER_TIMEOUTS = (
    "not analysed: {count} other files of this change ran out of time, so the rest was dropped"
)

# -- suggestions and threads -----------------------------------------------------------------
NOQA_PYTHON = "# noqa: {code}"
NOQA_TEMPLATE = "{{# noqa: {code} #}}"
FIX_ELSEWHERE = "The fix changes line {line}, outside the lines of this comment."
FIX_COLLAPSED = (
    "<details><summary>Suggested fix, to apply by hand (one suggestion here cannot cover "
    "every line it changes)</summary>\n\n```diff\n{diff}\n```\n\n</details>"
)
FIX_NOT_YET = (
    "<details><summary>A fix that is not valid on its own yet (applied alone, this file "
    "would not compile: it depends on another change, such as the order of parameters); "
    "pystd suggests it once it is</summary>\n\n```diff\n{diff}\n```\n\n</details>"
)
THREAD_FIXED_REPLY = "Fixed in {sha}: pystd no longer finds this. {marker}"

# -- review fixes --
HEALTH_GITHUB_DECLINED = (
    "GitHub did not answer the check of the App's key (answered {status}, a rate limit); "
    "retrying"
)

# -- operator setup and rule pages (issue 13) --
PAGE_RULES_TITLE = "pystd rules"
PAGE_RULES_INTRO = (
    "Every rule pystd ships, with what it flags, why, an example and its fix. Rules marked "
    "off run only when a repository selects them in <code>[tool.pystd]</code>."
)
PAGE_BY_CATEGORY = "By category"
PAGE_BY_FRAMEWORK = "By framework"
PAGE_RULE_COLUMNS = ("code", "name", "severity", "default", "what it flags")
PAGE_ALL_RULES = "← all rules"
PAGE_ON_BY_DEFAULT = "on by default"
PAGE_OFF_BY_DEFAULT = "off by default"
PAGE_NO_SUCH_RULE_TITLE = "No such rule"
PAGE_NO_SUCH_RULE = '<h1>No rule {code}</h1><p><a href="../rules">See every rule</a>.</p>'
SETUP_TITLE = "Set up pystd"
SETUP_INTRO = (
    "pystd is not registered with GitHub yet. One click creates its GitHub App from "
    "<code>app.yml</code>, with this server's address for webhooks; GitHub then sends the "
    "App's key and webhook secret back here, and pystd starts serving at once."
)
SETUP_FOR_YOU = "The App will belong to your personal GitHub account."
SETUP_FOR_ORG = "The App will belong to the organisation <strong>{org}</strong>."
SETUP_BUTTON = "Register pystd on GitHub"
SETUP_ORG_PROMPT = "For an organisation instead, give its name:"
SETUP_ORG_BUTTON = "Use this organisation"
SETUP_WHAT_IS_SENT = (
    "The manifest sent to {github} asks for the permissions and events of "
    "<code>app.yml</code> and names {url}/webhook as the webhook address."
)
SETUP_NEEDS_KEY = (
    "To register pystd, open the <code>/setup?key=…</code> link that <code>pystd serve</code> "
    "wrote to its log when it started (<code>docker logs</code>). Whoever registers the App "
    "owns it, so the page needs that one-time key."
)
SETUP_BAD_ORG = "{org} is not a GitHub organisation name (letters, digits and hyphens)."
SETUP_BAD_STATE = (
    "This registration was not started from this browser on this server, or it was already "
    "used or is over an hour old. Start again from the link in the server's log."
)
SETUP_BAD_CODE = "GitHub's answer had no valid code. Start again from the link in the server's log."
SETUP_CODE_REFUSED = (
    "GitHub refused the registration code (answered {status}): a code works once, within "
    "an hour. Start again from the link in the server's log."
)
SETUP_GITHUB_UNREACHABLE = "GitHub could not be reached to complete the registration ({reason}); reload this page to try again."
SETUP_NO_WEBHOOK_SECRET = "GitHub created the App without a webhook secret; pystd cannot verify its deliveries."  # noqa: S105 - a message
SETUP_BAD_ANSWER = "GitHub's answer to the registration lacked the App's id, key or webhook secret."
SETUP_CANNOT_STORE = (
    "The App {app_id} was created on GitHub, but its credentials could not be written to "
    "the data folder {path} ({reason}). Make PYSTD_DATA_DIR writable, delete the App in "
    "GitHub's settings and register again."
)
SETUP_DONE = (
    "pystd is registered on GitHub as <strong>{name}</strong> (App ID {app_id}, owned by "
    "{owner}), and this server now serves its webhooks. Its key and webhook secret are "
    "stored in the data folder."
)
SETUP_INSTALL_BUTTON = "Install it on your repositories"
SETUP_CONFIGURED_STORED = (
    "pystd is set up: it serves the GitHub App <strong>{name}</strong> (App ID {app_id}, "
    "owned by {owner}). <a href=\"{install}\">Install it on more repositories</a>."
)
SETUP_CONFIGURED_ENV = (
    "pystd is set up: it serves the GitHub App {app_id}, with credentials from its "
    "environment. Nothing here changes them."
)
SETUP_ALREADY = "pystd already has its GitHub App; this registration changed nothing."
SETUP_INSTALLED = '<p class="box ok">pystd is installed.</p>'
SETUP_NEXT = "Open a pull request that changes Python code: pystd reviews it within seconds."
SETUP_LOG_OPEN = "pystd is not registered with GitHub yet: open the setup page to register it"
SETUP_STORED_UNREADABLE = "pystd serve: cannot start: cannot read the stored App credentials {path}: {reason}"
HEALTH_NOT_CONFIGURED = "no GitHub App credentials yet: register the App at /setup"
WEBHOOK_NOT_CONFIGURED = "pystd has no GitHub App credentials yet; register it at /setup"
ANNOTATION_RULE_PAGE = "About this rule: {link}"
# -- pystd check: cache, progress, fixes, source (issue 12) --
CLI_CACHE_UNWRITABLE = "pystd: warning: cannot write the cache in {path} ({reason}); use --cache-dir or --no-cache"
CLI_PROGRESS = "pystd: [{bar}] {done}/{total} files"
CLI_FIXED = "pystd: fixed {fixed} of {found} findings in {files} (passes: {passes})"
CLI_FIX_NOT_APPLIED = "pystd: not fixed in {path}: applying the fixes would leave it unparsable"
CLI_FIX_WRITE_FAILED = "pystd: cannot write {path}: {reason}"
CLI_FIX_UNSAFE_HINT = "pystd: {count} more fixes are unsafe (they may change behaviour): --unsafe-fixes applies them"
CLI_FIX_WITH_DIFF = "pystd: error: --fix rewrites whole files, so it cannot be used with --diff"
TEXT_RULE_LINK = "= help: {url}"
# -- durable queue --
WEBHOOK_STORE_DOWN = (
    "the job queue's store is unavailable; the delivery was not accepted (redeliver it "
    "from the App's advanced settings once pystd is healthy)"
)
JOB_NO_CHECK_RUN = "the check run could not be created"
QUEUE_BAD_URL = "pystd: cannot start: PYSTD_QUEUE_URL: {reason}"
QUEUE_UNAVAILABLE = "pystd {command}: the job queue's store is unavailable: {reason}"
QUEUE_NO_SUCH_JOB = "pystd queue {action}: no job {job_id} in a state that allows it"
QUEUE_DONE = "pystd queue {action}: job {job_id} {outcome}"
QUEUE_EMPTY = "no jobs"
HEALTH_QUEUE_DOWN = "the job queue's store does not answer: {reason}"
SETTINGS_SPLIT_CREDENTIALS = (
    "pystd serve: cannot start: the environment sets {names}, but the GitHub App registered "
    "at /setup is stored in {path}; an App's id, key and webhook secret go together: unset "
    "those variables to use the stored App, or set all three"
)
SETUP_SPLIT_CREDENTIALS = (
    "The environment already sets {names} for a GitHub App. An App registered here would "
    "get that App's settings mixed with its own. Unset those variables and restart, or set "
    "all three of PYSTD_APP_ID, PYSTD_PRIVATE_KEY(_PATH) and PYSTD_WEBHOOK_SECRET."
)
SETUP_NOT_ACTIVATED = (
    "The App {app_id} is registered and its credentials are stored, but this server could "
    "not start serving it ({reason}). Restart the server: it will serve the App."
)

# -- worker health (issue 11) --
HEALTH_WORKER_STOPPED = "the worker loop has stopped: no job is claimed any more"
CLI_BAD_PORT = "--port takes a TCP port number, 1 to 65535, not {value!r}"

# -- replicas pick up /setup (leftovers of issues 12 and 13) --
PICKUP_DONE = "serving the App /setup registered, from the credentials in the data folder"
PICKUP_PROBLEM = "the stored App credentials cannot be used yet: still not configured"
PICKUP_UNREADABLE = "the stored App credentials could not be read ({reason})"
PICKUP_NOT_STARTED = "the stored App credentials were found but serving failed ({reason})"

# -- transient GitHub failures: the review is retried (faults2) --
CHECK_TITLE_RETRYING = "Waiting to retry after a GitHub failure"
SUMMARY_RETRYING = (
    "GitHub failed while pystd was reviewing this commit ({reason}), so the review will be "
    "tried again shortly; this run is completed then."
)
REASON_FILES_UNFETCHED = "{count} file(s) could not be fetched: {paths}"
JOB_NO_REVIEW = "the review could not be posted"

# -- pystd queue cancel completes the job's open check runs --
QUEUE_CANCELLED_REASON = "an operator cancelled the review (`pystd queue cancel`)"
QUEUE_CANCEL_RUNS_OPEN = (
    "pystd queue cancel: job {job_id} may have left its check run in progress at {heads}; "
    "without the App's credentials here it is not completed (run the command where "
    "pystd serve runs, or re-run the check from GitHub)"
)
