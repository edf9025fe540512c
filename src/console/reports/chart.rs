//! A line chart of per-day series as SVG geometry, computed here so the template only prints
//! numbers: no chart library, no script, no inline style.

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const PAD: f64 = 24.0;

/// One drawn series.
pub struct Line {
    /// Its legend.
    pub label: &'static str,
    /// `x,y x,y …` for a `<polyline points>`.
    pub points: String,
    /// Stroke colour, as a presentation attribute.
    pub colour: &'static str,
}

/// A chart ready to print.
pub struct Chart {
    /// The largest value, labelling the top of the axis.
    pub max: String,
    /// The lines.
    pub lines: Vec<Line>,
}

const COLOURS: [&str; 2] = ["#1f6feb", "#d4731a"];

impl Chart {
    /// Scales `series` to the chart's box; `None` when there is nothing to draw.
    pub fn draw(series: &[(&'static str, Vec<f64>)]) -> Option<Self> {
        let len = series.iter().map(|(_, v)| v.len()).max().filter(|&n| n > 0)?;
        let max = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0_f64, f64::max)
            .max(1.0);
        let step = if len > 1 {
            (WIDTH - 2.0 * PAD) / (len - 1) as f64
        } else {
            0.0
        };
        let lines = series
            .iter()
            .zip(COLOURS.iter().cycle())
            .map(|((label, values), colour)| Line {
                label,
                points: values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let x = PAD + step * i as f64;
                        let y = HEIGHT - PAD - (v / max) * (HEIGHT - 2.0 * PAD);
                        format!("{x:.1},{y:.1}")
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                colour,
            })
            .collect();
        Some(Self {
            max: format!("{max:.0}"),
            lines,
        })
    }
}
