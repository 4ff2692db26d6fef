import sys,re,statistics,collections
rows=collections.defaultdict(list); runs=collections.defaultdict(list)
for f in sys.argv[1:]:
    name=None
    for l in open(f):
        m=re.match(r'== round (\d+) (\S+) (\S+) (\S+)',l)
        if m: name=m.group(2); rnd=m.group(1); t=m.group(3); la=m.group(4); continue
        if l.startswith('BenchmarkSourceChurn') and name:
            met={u:float(v) for v,u in re.findall(r'([\d.]+) (\S+)',l.split('ns/op',1)[1])}
            cpu=met['CPU-%-core']; ups=met['updates/s']
            rows[name].append(cpu/ups)
            rs=met.get('run-slices/update')
            if rs: runs[name].append(rs)
            print('%-4s %s r%s %s load1 %s: %.3f%% at %.1f/s -> %.5f %%/(upd/s), tables %d, p50 %d p99 %d%s'%(name,f.split('/')[-1],rnd,t,la,cpu,ups,cpu/ups,met['tables'],met['write-to-table-p50-ms'],met['write-to-table-p99-ms'],' run-slices/update %.2f'%rs if rs else ''))
for k,v in rows.items(): print(k,'n=%d median %.5f'%(len(v),statistics.median(v)), 'run-slices/update median %.2f'%statistics.median(runs[k]) if runs[k] else '')
