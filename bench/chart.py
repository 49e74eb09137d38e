"""The log-log chart of bench/compare.sh: derive's time and peak memory against T, bptt beside SymPy and SymEngine.
   python3 chart.py ROWS OUT.svg   (ROWS: lines `T bptt_s bptt_MB sympy_s sympy_MB symengine_s symengine_MB`, - for none)
Plain SVG, no library: two panels, decades labelled, the Okabe–Ito colours."""
import math
import sys

rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
series = [("bptt", 1, 2, "#0072B2"), ("SymPy", 3, 4, "#D55E00"), ("SymEngine", 5, 6, "#009E73")]


def pts(col):
    out = []
    for r in rows:
        try:
            out.append((float(r[0]), float(r[col])))
        except ValueError:
            pass
    return [(x, y) for x, y in out if x > 0 and y > 0]


def panel(x0, title, ylabel, which):
    w, h, left, top = 420, 300, 60, 40
    data = [(name, pts(c[which]), color) for name, *c, color in [(s[0], s[1], s[2], s[3]) for s in series]]
    xs = [x for _, p, _ in data for x, _ in p]
    ys = [y for _, p, _ in data for _, y in p]
    if not xs:
        return ""
    lx0, lx1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    ly1 = max(ly1, ly0 + 1)
    X = lambda x: x0 + left + (math.log10(x) - lx0) / (lx1 - lx0) * (w - left - 10)
    Y = lambda y: top + (1 - (math.log10(y) - ly0) / (ly1 - ly0)) * (h - top - 40)
    s = [f'<text x="{x0 + w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    for e in range(lx0, lx1 + 1):
        s.append(f'<line x1="{X(10**e):.1f}" y1="{top}" x2="{X(10**e):.1f}" y2="{h - 40}" stroke="#ddd"/><text x="{X(10**e):.1f}" y="{h - 24}" text-anchor="middle" font-size="11">{10**e:g}</text>')
    for e in range(ly0, ly1 + 1):
        s.append(f'<line x1="{x0 + left}" y1="{Y(10**e):.1f}" x2="{x0 + w - 10}" y2="{Y(10**e):.1f}" stroke="#ddd"/><text x="{x0 + left - 4}" y="{Y(10**e) + 4:.1f}" text-anchor="end" font-size="11">{10**e:g}</text>')
    s.append(f'<text x="{x0 + w / 2}" y="{h - 6}" text-anchor="middle" font-size="12">T (time steps)</text>')
    s.append(f'<text transform="translate({x0 + 14},{h / 2}) rotate(-90)" text-anchor="middle" font-size="12">{ylabel}</text>')
    for i, (name, p, color) in enumerate(data):
        if not p:
            continue
        path = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in p)
        s.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        s += [f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{color}"/>' for x, y in p]
        s.append(f'<text x="{x0 + left + 8}" y="{top + 14 + 15 * i}" font-size="12" fill="{color}">{name}</text>')
    return "\n".join(s)


svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="860" height="300" font-family="sans-serif">',
       '<rect width="860" height="300" fill="white"/>',
       panel(0, "derive: time", "seconds", 0),
       panel(430, "derive: peak memory", "MB", 1),
       "</svg>"]
open(sys.argv[2], "w").write("\n".join(svg) + "\n")
