import sys,collections
samples=open(sys.argv[1]).read().split('\n\n')
def fnames(s):
    out=[]
    for l in s.strip().split('\n')[1:]:
        p=l.strip().split(None,1)
        if len(p)<2: continue
        out.append(p[1].rsplit(' (',1)[0].split('+0x')[0])
    return out
buckets=[
 ('sysmon','runtime.sysmon'),
 ('apply','model.(*Incremental).Apply'),
 ('tablestore other','main.(*tableStore).update'),
 ('watch window-update write','transportResponseBody.Read'),
 ('watch decode','watch.(*StreamWatcher).receive'),
 ('http2 readLoop','clientConnReadLoop'),
 ('reflector/fifo','k8s.io/client-go/tools/cache'),
 ('source loop','kube.(*Source).loop'),
 ('gc','gcBgMarkWorker'),
 ('gc assist','gcAssist'),
 ('scheduler idle (findRunnable)','runtime.findRunnable'),
 ('schedule other','runtime.schedule'),
]
c=collections.Counter(); n=0
sys_wake=collections.Counter()
for s in samples:
    f=fnames(s)
    if not f: continue
    n+=1
    joined='\n'.join(f)
    for name,key in buckets:
        if key in joined:
            c[name]+=1; break
    else:
        c['other: '+f[-1] if len(f)>0 else 'other']+=1
    if 'entersyscallWakeSysmon' in joined:
        sys_wake[' <- '.join(x for x in f if not x.startswith('runtime') and not x.startswith('syscall') and not x.startswith('internal'))[:200]]+=1
print('total',n)
for k,v in c.most_common(30): print('%5d %5.1f%% %s'%(v,100*v/n,k))
print('--- sysmon wake by')
for k,v in sys_wake.most_common(10): print(v,k)
