// The HTTP cron caller exists only after the cron secret matched.
fn main() {
    let _ = edge_guard::CronCaller::from_http_secret();
}
