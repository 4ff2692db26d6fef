# tobenchstat.py NAME FILES...: the churn lines of NAME's runs with an added
# metric, CPU-%-core per 1000 updates/s, for benchstat.
import sys,re
name=sys.argv[1]
for f in sys.argv[2:]:
    cur=None
    for l in open(f):
        m=re.match(r'== round \d+ (\S+)',l)
        if m: cur=m.group(1); continue
        if l.startswith('BenchmarkSourceChurn') and cur==name:
            met=dict((u,float(v)) for v,u in re.findall(r'([\d.]+) (\S+)',l.split('ns/op',1)[1]))
            print(l.rstrip()+'\t%.3f CPU-%%-per-1000-updates/s'%(1000*met['CPU-%-core']/met['updates/s']))
