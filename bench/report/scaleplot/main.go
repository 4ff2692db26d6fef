// Command scaleplot draws the name table's scale curve from a
// JSON file of points: heap per endpoint, build CPU and RSS against the
// number of endpoints, on log-log axes.
//
//	go run ./scaleplot -in ../results/nametable/scale.json -out ../results/nametable/scale.png
//
// (from bench/report, a module of its own for gonum.org/v1/plot).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/meshdns/meshdns/bench/report/internal/pngplot"
)

// series is one line: a value per number of endpoints (0: not measured).
type series struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
}

// panel is one chart.
type panel struct {
	Title  string   `json:"title"`
	YLabel string   `json:"ylabel"`
	Log    bool     `json:"log"`
	Series []series `json:"series"`
}

type document struct {
	Endpoints []float64 `json:"endpoints"`
	Panels    []panel   `json:"panels"`
}

func main() {
	pngplot.Main("scaleplot", "points JSON", run)
}

func run(in, out string) error {
	if err := pngplot.CheckArgs(in, out); err != nil {
		return err
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var d document
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(d.Panels) == 0 {
		return fmt.Errorf("%s: no panels", in)
	}
	grid := [][]*plot.Plot{make([]*plot.Plot, len(d.Panels))}
	for i, pn := range d.Panels {
		p, err := chart(d.Endpoints, pn)
		if err != nil {
			return err
		}
		grid[0][i] = p
	}
	return pngplot.WriteGrid(out, grid, 5.5*vg.Inch, 4.5*vg.Inch)
}

func chart(eps []float64, pn panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = "endpoints"
	p.Y.Label.Text = pn.YLabel
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	if pn.Log {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	}
	p.Legend.Top, p.Legend.Left = true, true
	for i, s := range pn.Series {
		var xys plotter.XYs
		for j, v := range s.Values {
			if j < len(eps) && v > 0 {
				xys = append(xys, plotter.XY{X: eps[j], Y: v})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		p.Add(l, pts)
		p.Legend.Add(s.Label, l, pts)
	}
	return p, nil
}
