import sys,re,statistics
runs=[]
for f in sys.argv[1:]:
    name=None
    for l in open(f):
        m=re.match(r'== round (\d+) (\S+) (\S+) (\S+)',l)
        if m: name,t,la=m.group(2),m.group(3),m.group(4); continue
        if l.startswith('BenchmarkSourceChurn') and name:
            met=dict((u,float(v)) for v,u in re.findall(r'([\d.]+) (\S+)',l.split('ns/op',1)[1]))
            runs.append((f.split('/')[-1],name,t,la,met))
# pair adjacent runs within a file
print('| file | order | A: % at /s = per update/s (p99 ms) | B: same | B/A | load1 at A, B |')
print('|---|---|---|---|---|---|')
ratios=[];A=[];B=[];ra=[];rb=[]
i=0
while i+1<len(runs):
    x,y=runs[i],runs[i+1]
    if x[0]!=y[0] or {x[1],y[1]}!={'A','B'}: i+=1; continue
    a,b=(x,y) if x[1]=='A' else (y,x)
    pa=a[4]['CPU-%-core']/a[4]['updates/s']; pb=b[4]['CPU-%-core']/b[4]['updates/s']
    ratios.append(pb/pa); A.append(pa); B.append(pb)
    if 'run-slices/update' in a[4]: ra.append(a[4]['run-slices/update']); rb.append(b[4]['run-slices/update'])
    print('| %s | %s | %.3f at %.1f = %.5f (%d) | %.3f at %.1f = %.5f (%d) | %+.1f %% | %s, %s |'%(x[0],x[1]+'→'+y[1],a[4]['CPU-%-core'],a[4]['updates/s'],pa,a[4]['write-to-table-p99-ms'],b[4]['CPU-%-core'],b[4]['updates/s'],pb,b[4]['write-to-table-p99-ms'],100*(pb/pa-1),a[3],b[3]))
    i+=2
print()
print('n=%d pairs. Median per update a second: A %.5f, B %.5f (%+.1f %%); median of the pairs\' ratios %+.1f %% (from %+.1f to %+.1f %%); B lower in %d of %d pairs.'%(len(A),statistics.median(A),statistics.median(B),100*(statistics.median(B)/statistics.median(A)-1),100*(statistics.median(ratios)-1),100*(min(ratios)-1),100*(max(ratios)-1),sum(r<1 for r in ratios),len(ratios)))
if ra: print('run-slices/update (pairs with it): A median %.2f, B median %.2f (n=%d)'%(statistics.median(ra),statistics.median(rb),len(ra)))
