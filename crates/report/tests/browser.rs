//! Opens reports in real headless Chromium: no console error, no network request but the file
//! itself, hostile names inert, tables sortable, filterable and paged. Skips (printing the install
//! command) when no Chromium is installed, unless `TENSORBENCH_REQUIRE_CHROMIUM=1`. With
//! `TENSORBENCH_SCREENSHOT_DIR=DIR` it also writes its screenshots there.

mod common;

use common::chromium::{self, Browser, INSTALL_HINT};
use common::fixtures;
use std::path::Path;
use tensorbench_report::{ReportInput, render_html};

fn browser() -> Option<Browser> {
    let Some(binary) = chromium::find() else {
        if std::env::var("TENSORBENCH_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1") {
            panic!(
                "TENSORBENCH_REQUIRE_CHROMIUM=1 but no Chromium found; install it: {INSTALL_HINT}"
            );
        }
        eprintln!(
            "SKIPPED: no Chromium found (set TENSORBENCH_CHROMIUM or install it: {INSTALL_HINT})"
        );
        return None;
    };
    Some(Browser::launch(&binary).unwrap_or_else(|e| panic!("launching {}: {e}", binary.display())))
}

fn write_report(dir: &Path, name: &str, input: &ReportInput) -> String {
    let path = dir.join(name);
    std::fs::write(&path, render_html(input).unwrap()).unwrap();
    format!("file://{}", path.display())
}

fn save(name: &str, png: &[u8]) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "not a real screenshot"
    );
    if let Some(dir) = std::env::var_os("TENSORBENCH_SCREENSHOT_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(name), png).unwrap();
    }
}

#[test]
fn report_loads_offline_without_errors_in_chromium() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = fixtures::run(300, 11);
    let ids: Vec<&str> = run
        .measurements
        .iter()
        .take(3)
        .map(|m| m.id.as_str())
        .collect();
    let input = ReportInput::new(vec![run.clone()])
        .with_comparison(fixtures::comparison(&run))
        .with_history(fixtures::history(&ids, 12));
    let url = write_report(dir.path(), "report.html", &input);

    for dark in [false, true] {
        b.viewport(1280, 900, dark).unwrap();
        let log = b.open(&url).unwrap();
        assert!(log.errors.is_empty(), "console errors: {:#?}", log.errors);
        assert_eq!(
            log.requests,
            vec![url.clone()],
            "the page requested more than itself"
        );
        let bg = b
            .eval("getComputedStyle(document.documentElement).backgroundColor")
            .unwrap();
        assert_eq!(
            bg == "rgb(20, 23, 28)",
            dark,
            "theme does not follow the system setting: {bg}"
        );
        save(
            if dark {
                "fixture-dark.png"
            } else {
                "fixture-light.png"
            },
            &b.screenshot(None).unwrap(),
        );
    }

    // Hostile names are text: no element injected, no script run, the text itself visible.
    let injected = b
        .eval("document.querySelectorAll('main b, main i, main em').length")
        .unwrap();
    assert_eq!(injected, 0);
    assert_eq!(b.eval("document.scripts.length").unwrap(), 3);
    let shown = b
        .eval(&format!(
            "document.body.innerText.includes({})",
            serde_json::json!(fixtures::NASTY)
        ))
        .unwrap();
    assert_eq!(shown, true, "the hostile op name is not shown as text");

    // Paged: the first suite table shows one page; the pager says how many.
    let first = "document.querySelector('#measurements table.tb')";
    let rows = b.eval(&format!("{first}.tBodies[0].rows.length")).unwrap();
    assert_eq!(rows, 50);
    let pager = b
        .eval(&format!(
            "{first}.closest('.tb-wrap').querySelector('.tb-pager').textContent"
        ))
        .unwrap();
    assert!(pager.as_str().unwrap().contains("page 1 of"), "{pager}");

    // Sorted: clicking "median" twice puts the slowest first.
    let medians_sorted = format!(
        "(() => {{ const t = {first}; const th = [...t.tHead.rows[0].cells].find(c => c.textContent === 'median');
            th.click(); th.click();
            const keys = JSON.parse(document.getElementById('tb-data').textContent).tables[t.id];
            const col = [...t.tHead.rows[0].cells].indexOf(th);
            const shown = [...t.tBodies[0].rows].map(r => keys[+r.dataset.i][col]);
            const all = keys.map(k => k[col]).filter(v => v !== null).sort((a, b) => b - a);
            return th.getAttribute('aria-sort') === 'descending' && shown[0] === all[0]
              && shown.every((v, i) => i === 0 || shown[i - 1] >= v); }})()"
    );
    assert_eq!(b.eval(&medians_sorted).unwrap(), true);

    // Filtered: every shown row matches every word typed.
    let filtered = format!(
        "(() => {{ const t = {first}; const input = t.closest('.tb-wrap').querySelector('.tb-filter');
            input.value = 'rayon 16'; input.dispatchEvent(new Event('input'));
            const rows = [...t.tBodies[0].rows];
            return rows.length > 0 && rows.every(r => r.textContent.includes('rayon') && r.textContent.includes('16')); }})()"
    );
    assert_eq!(b.eval(&filtered).unwrap(), true);
    let log = b.log();
    assert!(
        log.errors.is_empty(),
        "console errors after interaction: {:#?}",
        log.errors
    );
}

#[test]
fn report_of_2000_measurements_loads_in_chromium() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = fixtures::run(2000, 5);
    let url = write_report(
        dir.path(),
        "big.html",
        &ReportInput::new(vec![run.clone()]).with_comparison(fixtures::comparison(&run)),
    );
    b.viewport(1280, 900, false).unwrap();
    let log = b.open(&url).unwrap();
    assert!(log.errors.is_empty(), "console errors: {:#?}", log.errors);
    assert_eq!(log.requests, vec![url]);
    // Every table is paged: no table body holds more than one page of rows.
    let most = b.eval("Math.max(...[...document.querySelectorAll('table.tb')].map(t => t.tBodies[0].rows.length))").unwrap();
    assert!(most.as_u64().unwrap() <= 50, "{most}");
    save(
        "fixture-2000-roofline.png",
        &b.screenshot(Some("#roofline")).unwrap(),
    );
}

/// Screenshots of each section of a report of real run files (or of a report already written by
/// `cargo xtask report`), for the docs and for looking at:
/// `TENSORBENCH_REPORT_RUNS=a.json:b.json` (or `TENSORBENCH_REPORT_HTML=report.html`) `TENSORBENCH_SCREENSHOT_DIR=out cargo
/// test -p tensorbench-report --test browser -- --ignored section_screenshots`.
#[test]
#[ignore = "needs TENSORBENCH_REPORT_RUNS or TENSORBENCH_REPORT_HTML, and TENSORBENCH_SCREENSHOT_DIR"]
fn section_screenshots() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("TENSORBENCH_REPORT_HTML") {
        Ok(html) => format!("file://{}", std::fs::canonicalize(html).unwrap().display()),
        Err(_) => {
            let runs = std::env::var("TENSORBENCH_REPORT_RUNS")
                .expect("TENSORBENCH_REPORT_RUNS=run.json[:run.json...]");
            let runs: Vec<_> = runs
                .split(':')
                .map(|p| tensorbench_schema::store::load_run(Path::new(p)).unwrap())
                .collect();
            write_report(dir.path(), "real.html", &ReportInput::new(runs))
        }
    };
    for dark in [false, true] {
        b.viewport(1280, 900, dark).unwrap();
        let log = b.open(&url).unwrap();
        assert!(log.errors.is_empty(), "console errors: {:#?}", log.errors);
        let theme = if dark { "dark" } else { "light" };
        for id in [
            "overview",
            "comparison",
            "measurements",
            "not-measured",
            "roofline",
            "scaling",
            "threads",
            "distributions",
            "history",
            "peers",
        ] {
            let present = b
                .eval(&format!("!!document.getElementById('{id}')"))
                .unwrap();
            if present == true {
                save(
                    &format!("{theme}-{id}.png"),
                    &b.screenshot(Some(&format!("#{id}"))).unwrap(),
                );
                // The first chart alone, for documentation.
                let has_chart = b
                    .eval(&format!("!!document.querySelector('#{id} figure')"))
                    .unwrap();
                if has_chart == true {
                    let shot = b.screenshot(Some(&format!("#{id} figure"))).unwrap();
                    save(&format!("{theme}-{id}-chart.png"), &shot);
                }
            }
        }
    }
}
