#!/usr/bin/env bash
# Start N app processes on ports 8501.. on this machine (default: one per two cores),
# for deploy/nginx/metalearn.conf to balance. Stop them with: kill $(cat run/*.pid)
set -euo pipefail
cd "$(dirname "$0")/.."
cores=$(nproc)
count=${1:-$(( cores / 2 > 0 ? cores / 2 : 1 ))}
first_port=${FIRST_PORT:-8501}
if ! [[ "$count" =~ ^[0-9]+$ ]] || (( count < 1 || count > 64 )); then
    echo "usage: $0 [processes, 1 to 64]" >&2
    exit 2
fi
mkdir -p run
for (( i = 0; i < count; i++ )); do
    port=$(( first_port + i ))
    # two malloc arenas: each Play loop's thread would otherwise keep freed memory of its own
    MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} \
    METALEARN_TORCH_THREADS=${METALEARN_TORCH_THREADS:-1} nohup python -m streamlit run app.py \
        --server.address 127.0.0.1 --server.port "$port" >"run/app-$port.log" 2>&1 &
    echo $! >"run/app-$port.pid"
    echo "app process on 127.0.0.1:$port (log run/app-$port.log)"
done
