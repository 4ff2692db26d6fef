// Package pngplot is what the report's commands (meshdns-bench-plot and
// scaleplot) share: their command line (-in JSON, -out PNG) and the
// drawing of a grid of panels into one PNG file.
package pngplot

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Main parses -in (described by inHelp) and -out from the command line
// and calls draw with them; an error is printed after the command's name
// and the process exits with status 1.
func Main(name, inHelp string, draw func(in, out string) error) {
	in := flag.String("in", "", inHelp)
	out := flag.String("out", "", "PNG to write")
	flag.Parse()
	if err := draw(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// CheckArgs says whether both files are named.
func CheckArgs(in, out string) error {
	if in == "" || out == "" {
		return errors.New("-in and -out are required")
	}
	return nil
}

// WriteGrid draws grid, rows of panels of cellW by cellH (a nil panel
// leaves its cell blank), aligned on one canvas, and writes it to out as
// PNG.
func WriteGrid(out string, grid [][]*plot.Plot, cellW, cellH vg.Length) error {
	rows, cols := len(grid), 0
	for _, r := range grid {
		cols = max(cols, len(r))
	}
	img := vgimg.New(vg.Length(cols)*cellW, vg.Length(rows)*cellH)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, draw.New(img))
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
