package main

import (
	"fmt"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/meshdns/meshdns/bench/report/internal/pngplot"
)

func main() {
	pngplot.Main("meshdns-bench-plot", "results JSON", run)
}

func run(in, out string) error {
	if err := pngplot.CheckArgs(in, out); err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	d, err := readDocument(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	plots, err := build(d)
	if err != nil {
		return err
	}
	const cols = 2
	rows := (len(plots) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		for j := range grid[i] {
			if k := i*cols + j; k < len(plots) {
				grid[i][j] = plots[k]
			}
		}
	}
	return pngplot.WriteGrid(out, grid, 8*vg.Inch, 4.5*vg.Inch)
}

func build(d *document) ([]*plot.Plot, error) {
	var plots []*plot.Plot
	cs := d.contenders()
	suffix := fmt.Sprintf(" (%s, %s, %d rounds, median)", d.Meta.Host, d.Meta.Label, d.Meta.Rounds)
	if ws := d.workloads("dnsperf"); len(ws) > 0 {
		p, err := bars("Full load: queries/s (dnsperf)"+suffix, "queries/s", cs, ws, func(s *summary) spread { return s.QPS }, d)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p)
		p, err = bars("CPU µs per query at full load (pod side + upstream)", "µs/query", cs, ws, func(s *summary) spread { return s.CPUPerQuery }, d)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p)
	}
	for _, k := range d.fixedPanels() {
		p, err := percentiles(d, cs, k)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p)
	}
	return plots, nil
}

// bars is a grouped bar chart: one group per workload, one bar per
// contender, at the median across rounds (the ranges are in the Markdown
// table).
func bars(title, ylabel string, cs, ws []string, get func(*summary) spread, d *document) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	w := vg.Points(60 / float64(max(len(cs), 1)))
	for i, c := range cs {
		vals := make(plotter.Values, len(ws))
		for j, wl := range ws {
			if s := d.find(c, wl, "dnsperf", 0); s != nil {
				if m := get(s).med(); !math.IsNaN(m) {
					vals[j] = m
				}
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(len(cs)-1)/2)
		p.Add(b)
		p.Legend.Add(c, b)
	}
	p.NominalX(ws...)
	p.X.Min, p.X.Max = -0.6, float64(len(ws))-0.4
	p.Legend.Left = true
	return p, nil
}

// percentiles plots p50..p99.9 latency (log scale) for one fixed-rate run
// kind, one line per contender.
func percentiles(d *document, cs []string, k panelKey) (*plot.Plot, error) {
	p := plot.New()
	unit := "q/s"
	if k.Tool == "lookups" {
		unit = "lookups/s"
	}
	p.Title.Text = fmt.Sprintf("%s at %g %s: latency percentiles", k.Workload, k.Rate, unit)
	p.Y.Label.Text = "µs (log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	labels := []string{"p50", "p90", "p99", "p99.9"}
	for i, c := range cs {
		s := d.find(c, k.Workload, k.Tool, k.Rate)
		if s == nil {
			continue
		}
		var pts plotter.XYs
		for j, sp := range []spread{s.P50, s.P90, s.P99, s.P999} {
			if m := sp.med(); !math.IsNaN(m) && m > 0 {
				pts = append(pts, plotter.XY{X: float64(j), Y: m})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(2)
		sc.Color = plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		p.Add(l, sc)
		p.Legend.Add(c, l, sc)
	}
	p.NominalX(labels...)
	return p, nil
}
