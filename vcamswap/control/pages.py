"""The HTML the control server serves: the preview page and the About page."""

from __future__ import annotations

from vcamswap import __version__

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>VCamSwap preview</title>
<style>body{background:#202428;color:#ddd;font:14px sans-serif;margin:1em}
img{max-width:100%;border:1px solid #444}</style></head><body>
<h1>VCamSwap preview</h1><img id="stream" src="/preview.mjpg?token=TOKEN" alt="output">
<p id="quality"></p><pre id="status"></pre><script>
async function poll(){try{const r=await fetch('/api/status',{headers:{'Authorization':
'Bearer TOKEN'}});const s=await r.json();const g=s.governor||{};
document.getElementById('quality').textContent='Quality: step '+g.level+' of '+
((g.levels||[]).length-1)+' ('+g.name+', '+g.mode+') - '+g.reason;
document.getElementById('status').textContent=JSON.stringify(s,null,1);}catch(e){}
setTimeout(poll,1000);}poll();</script></body></html>"""


ABOUT = f"""<!doctype html><html><head><meta charset="utf-8"><title>About VCamSwap</title>
</head><body style="font:14px sans-serif;margin:2em;max-width:48em">
<h1>VCamSwap {__version__}</h1><p>Live face-swap virtual camera. Use only faces you have the
consent to use; keep the synthetic-media label on.</p><h2>What marks the output as
synthetic</h2><ul><li>The visible "AI-generated" badge (<code>safety.label</code>).</li>
<li>A hidden watermark in every frame while the swap is on, live and in files
(<code>safety.watermark</code>): it says "synthetic face, VCamSwap" and nothing about you, and
survives re-encoding at 1 Mbit/s, scaling and JPEG (not cropping).</li><li>A signed C2PA
manifest in files from <code>vcamswap swap</code> (<code>safety.c2pa</code>), and metadata
tags.</li><li>Check a file or a camera: <code>vcamswap verify FILE</code>,
<code>vcamswap verify --camera VCamSwap</code>.</li></ul>
<h2>Licences of what it loads</h2><ul>
<li>insightface models (det_10g, w600k_r50, inswapper_128): non-commercial research use
only.</li><li>GFPGAN: Apache-2.0 code; check the weights' terms. GPEN: non-commercial.</li>
<li>dlib (Boost licence); its 68-point landmark model was trained on iBUG 300-W, whose terms
exclude commercial use.</li><li>Content check: NudeNet's 320n detector, loaded from the
installed nudenet package, whose LICENSE file is AGPL-3.0 (its metadata says MIT); the optional
640m model: AGPL-3.0.</li><li>VCamSwap redistributes none of these files.</li></ul>
</body></html>"""
