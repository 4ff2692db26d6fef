package main

import "runtime/debug"

func version() string {
	v := "meshdns (devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = "meshdns " + bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}
