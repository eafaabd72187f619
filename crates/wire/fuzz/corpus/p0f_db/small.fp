classes = win,unix,other
[mtu]
label = Ethernet
sig = 1500
[tcp:request]
; ours
label = s:unix:Linux:3.11 and newer
sig = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0
label = s:!:Scanner:x
sys = @unix,Linux
sig = *:64-:0:1460:1024,0:mss::0
label = g:win:Windows:
sig = 4:128+0:4:*:%8192,*:mss,nop,ws,?30,sack,eol+2:df,id+,ecn:*
[tcp:response]
label = s:other:X:y:z
sig = 6:255:0:1440:mtu*3,14:ts,eol+0:flow,exws,bad:+
[http:request]
ua_os = Linux
label = s:unix:Linux:2.x
sig = *:Host:Accept:x
