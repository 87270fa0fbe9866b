# bench/lib/chart.gp — the benchmark chart (called by bench/lib/report.mjs):
# left, requests per second at concurrency 1 and 32; right, p99 latency. Log scales: the targets
# span three orders of magnitude. Variables: datafile, outfile, subtitle.
# Data columns: label, rps c=1, rps c=32, p99 ms c=1, p99 ms c=32 ("-" = not measured).
set terminal pngcairo size 1400,620 font "DejaVu Sans,10" noenhanced
set output outfile
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set xtics rotate by -35 left
set logscale y
set multiplot layout 1,2 title "MCP gateway vs nginx and Node peers (".subtitle.")"
set title "Throughput (requests/s, higher is better)"
set ylabel "req/s"
set yrange [10:*]
set bmargin 9
plot datafile using 2:xtic(1) title "c=1" lc rgb "#8fb3d9", \
     '' using 3 title "c=32" lc rgb "#1f4e8c"
set title "p99 latency (ms, lower is better)"
set key top left
set ylabel "ms"
set yrange [0.1:*]
plot datafile using 4:xtic(1) title "c=1" lc rgb "#f2b77a", \
     '' using 5 title "c=32" lc rgb "#c0561b"
unset multiplot
