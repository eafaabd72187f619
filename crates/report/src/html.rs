//! The report as one self-contained HTML page (every table, every chart as inline SVG,
//! no external resources), and the charts as standalone SVG files.

use std::fmt::Write;

use crate::model::*;
use crate::render::{tables, Table};

/// XML/HTML text escaping.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// One chart: a stable file name and its SVG.
pub struct Chart {
    /// File name stem (`daily`, `ports`, `os`, `activity-1`, …).
    pub name: String,
    /// Title.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

const PALETTE: [&str; 8] = [
    "#3b6ea5", "#e07b39", "#4f9d69", "#c0504d", "#8064a2", "#4bacc6", "#9b8b3a", "#7f7f7f",
];

fn svg_open(out: &mut String, name: &str, w: u32, h: u32, title: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11"><title>{}</title>"#,
        esc(name),
        esc(title)
    );
}

/// Figure 1: connections per day as bars, with the mean as a line.
pub fn daily_chart(r: &Report) -> Chart {
    let title = format!("Connections per day to {}", r.parameters.port);
    let (w, h, left, bottom, top) = (860u32, 300u32, 70.0, 60.0, 30.0);
    let plot_w = w as f64 - left - 20.0;
    let plot_h = h as f64 - bottom - top;
    let max = r
        .daily
        .iter()
        .map(|d| d.connections)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = r.daily.len().max(1) as f64;
    let bar_w = plot_w / n;
    let mut s = String::new();
    svg_open(&mut s, "daily", w, h, &title);
    let _ = write!(
        s,
        r#"<text x="{left}" y="18" font-size="13" font-weight="bold">{}</text>"#,
        esc(&title)
    );
    // Axis and gridlines at quarters of the maximum.
    for q in 0..=4 {
        let v = max * q as f64 / 4.0;
        let y = top + plot_h - plot_h * q as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{:.0}</text>"##,
            left + plot_w,
            left - 6.0,
            y + 4.0,
            v
        );
    }
    for (i, d) in r.daily.iter().enumerate() {
        let bh = plot_h * d.connections as f64 / max;
        let x = left + i as f64 * bar_w;
        let _ = write!(
            s,
            r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{}: {}</title></rect>"#,
            x + bar_w * 0.1,
            top + plot_h - bh,
            bar_w * 0.8,
            PALETTE[0],
            esc(&d.date),
            d.connections
        );
        if r.daily.len() <= 40 || i % (r.daily.len() / 30 + 1) == 0 {
            let label = d.date.get(5..).unwrap_or(&d.date);
            let (lx, ly) = (x + bar_w / 2.0, top + plot_h + 12.0);
            let _ = write!(
                s,
                r#"<text x="{lx:.1}" y="{ly:.1}" text-anchor="end" transform="rotate(-60 {lx:.1} {ly:.1})">{}</text>"#,
                esc(label)
            );
        }
    }
    if !r.daily.is_empty() {
        let y = top + plot_h - plot_h * r.daily_summary.mean / max;
        let _ = write!(
            s,
            r##"<line class="mean" x1="{left}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#c0504d" stroke-dasharray="5 3"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#c0504d">mean {:.0}</text>"##,
            left + plot_w,
            left + plot_w,
            y - 4.0,
            r.daily_summary.mean
        );
    }
    s.push_str("</svg>");
    Chart {
        name: "daily".into(),
        title,
        svg: s,
    }
}

/// Horizontal bars: label, value, share.
fn hbar_chart(name: &str, title: &str, items: &[(String, u64, f64)]) -> Chart {
    let row_h = 22.0;
    let (w, left, top) = (860u32, 150.0, 30.0);
    let h = (top + row_h * items.len().max(1) as f64 + 10.0) as u32;
    let plot_w = w as f64 - left - 170.0;
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    svg_open(&mut s, name, w, h, title);
    let _ = write!(
        s,
        r#"<text x="10" y="18" font-size="13" font-weight="bold">{}</text>"#,
        esc(title)
    );
    for (i, (label, v, share)) in items.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let bw = (plot_w * *v as f64 / max).max(1.0);
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar" x="{left}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}">{} ({:.1} %)</text>"#,
            left - 8.0,
            y + 15.0,
            esc(label),
            y + 3.0,
            row_h - 6.0,
            PALETTE[i % PALETTE.len()],
            esc(label),
            v,
            left + bw + 6.0,
            y + 15.0,
            v,
            share
        );
    }
    s.push_str("</svg>");
    Chart {
        name: name.into(),
        title: title.into(),
        svg: s,
    }
}

/// The busiest ports as bars.
pub fn ports_chart(r: &Report) -> Chart {
    let items: Vec<(String, u64, f64)> = r
        .ports
        .iter()
        .take(15)
        .map(|p| {
            let label = match p.port {
                Some(port) => format!("{port}/{}", p.proto),
                None => p.proto.clone(),
            };
            (label, p.connections, p.share_pct)
        })
        .collect();
    hbar_chart("ports", "Connections per destination port", &items)
}

/// OS shares as bars.
pub fn os_chart(r: &Report) -> Chart {
    let items: Vec<(String, u64, f64)> =
        r.os.iter()
            .map(|o| (o.os.clone(), o.connections, o.share_pct))
            .collect();
    hbar_chart(
        "os",
        &format!("Operating systems of {} connections", r.parameters.port),
        &items,
    )
}

/// One source's activity as a heat map: days down, hours across, colour by port,
/// intensity by connections.
pub fn activity_chart(a: &Activity, index: usize) -> Chart {
    let title = format!("Activity of {} by hour and day", a.src);
    let mut days: Vec<&str> = a.grid.iter().map(|c| c.date.as_str()).collect();
    days.dedup();
    let ports: Vec<&String> = a.hours.keys().collect();
    let (cell, left, top) = (22.0, 90.0, 46.0);
    let w = (left + cell * 24.0 + 170.0) as u32;
    let h = (top + cell * days.len().max(1) as f64 + 20.0) as u32;
    let max = a
        .grid
        .iter()
        .map(|c| c.connections)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut s = String::new();
    svg_open(&mut s, &format!("activity-{index}"), w, h, &title);
    let _ = write!(
        s,
        r#"<text x="10" y="18" font-size="13" font-weight="bold">{}</text>"#,
        esc(&title)
    );
    for hour in 0..24 {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{hour}</text>"#,
            left + cell * hour as f64 + cell / 2.0,
            top - 6.0
        );
    }
    for (row, day) in days.iter().enumerate() {
        let y = top + row as f64 * cell;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            left - 6.0,
            y + cell * 0.7,
            esc(day)
        );
        for hour in 0..24 {
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="#f3f3f3"/>"##,
                left + cell * hour as f64,
                cell - 2.0,
                cell - 2.0
            );
        }
        for c in a.grid.iter().filter(|c| c.date == *day) {
            let colour = ports
                .iter()
                .position(|p| **p == c.port)
                .map_or("#7f7f7f", |i| PALETTE[i % PALETTE.len()]);
            let opacity = 0.35 + 0.65 * (c.connections as f64 / max);
            let _ = write!(
                s,
                r#"<rect class="cell" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{colour}" fill-opacity="{opacity:.2}"><title>{} {:02}:00 {}: {}</title></rect>"#,
                left + cell * c.hour as f64,
                cell - 2.0,
                cell - 2.0,
                esc(&c.date),
                c.hour,
                esc(&c.port),
                c.connections
            );
        }
    }
    for (i, p) in ports.iter().enumerate() {
        let y = top + i as f64 * 18.0;
        let x = left + cell * 24.0 + 16.0;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{y:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            PALETTE[i % PALETTE.len()],
            x + 18.0,
            y + 10.0,
            esc(p)
        );
    }
    s.push_str("</svg>");
    Chart {
        name: format!("activity-{index}"),
        title,
        svg: s,
    }
}

/// Every chart of the report.
pub fn charts(r: &Report) -> Vec<Chart> {
    let mut c = vec![daily_chart(r), ports_chart(r), os_chart(r)];
    for (i, a) in r.activity.iter().enumerate() {
        c.push(activity_chart(a, i + 1));
    }
    c
}

fn html_table(out: &mut String, t: &Table) {
    let _ = write!(out, "<table data-table=\"{}\"><thead><tr>", t.name);
    for (h, num) in t.headers.iter().zip(&t.numeric) {
        let _ = write!(
            out,
            "<th{}>{}</th>",
            if *num { " class=num" } else { "" },
            esc(h)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for (c, num) in row.iter().zip(&t.numeric) {
            let _ = write!(
                out,
                "<td{}>{}</td>",
                if *num { " class=num" } else { "" },
                esc(c)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// The self-contained page. A small script marks the page with how many charts laid out
/// with a non-empty size (`data-charts-rendered` on `<body>`), for automated checks.
pub fn page(r: &Report) -> String {
    let charts = charts(r);
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>honeyscope report</title><style>\
         body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}\
         table{border-collapse:collapse;margin:0.5em 0 1.5em}\
         th,td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}\
         .num{text-align:right;font-variant-numeric:tabular-nums}\
         figure{margin:1em 0}svg{max-width:100%;height:auto}\
         </style></head><body>",
    );
    let _ = write!(
        out,
        "<h1>honeyscope report</h1><p>{} connections from {} sources, {} to {}. Main port {}; days and hours in {}.</p>",
        r.totals.connections,
        r.totals.sources,
        esc(r.totals.first.as_deref().unwrap_or("-")),
        esc(r.totals.last.as_deref().unwrap_or("-")),
        esc(&r.parameters.port),
        esc(&r.parameters.tz)
    );
    let tabs = tables(r);
    for t in &tabs {
        let chart_names: Vec<String> = match t.name {
            "ports" => vec!["ports".into()],
            "daily" => vec!["daily".into()],
            "activity" => (1..=r.activity.len())
                .map(|i| format!("activity-{i}"))
                .collect(),
            "os" => vec!["os".into()],
            _ => vec![],
        };
        let _ = write!(out, "<h2>{}</h2>", esc(&t.title));
        for name in chart_names {
            if let Some(c) = charts.iter().find(|c| c.name == name) {
                let _ = write!(out, "<figure>{}</figure>", c.svg);
            }
        }
        html_table(&mut out, t);
    }
    let _ = writeln!(
        out,
        "<script>addEventListener('load',function(){{var n=0;document.querySelectorAll('svg.chart').forEach(function(s){{var b=s.getBoundingClientRect();if(b.width>0&&b.height>0&&s.querySelectorAll('rect').length>0)n++;}});document.body.setAttribute('data-charts-rendered',n);document.body.setAttribute('data-charts-total',{});}});</script></body></html>",
        charts.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
