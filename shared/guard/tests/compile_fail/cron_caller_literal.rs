// Not by a struct literal either.
fn main() {
    let _ = edge_guard::CronCaller {
        trigger: edge_guard::CronTrigger::Http,
    };
}
