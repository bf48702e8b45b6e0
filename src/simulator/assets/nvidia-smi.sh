#!/bin/sh
# Simulated nvidia-smi for trainops tests and the demo: reports one NVIDIA A100-SXM4-80GB
# from the state the training simulator publishes. Plain POSIX sh, so a poll costs a fork,
# not an interpreter start. Modes (one word in $STATE_DIR/smi-mode): ok (default),
# driver-failed (the real message, exit 9), na (fields as [N/A]), hang (never answers).
STATE_DIR=${TRAINOPS_SIM_STATE_DIR:-@STATE_DIR@}
NAME='NVIDIA A100-SXM4-80GB'
UUID='GPU-5d1c2a9e-7b3f-4e0a-9c61-2f8e4b7d0a13'
BUS='00000000:00:04.0'

mode=ok
[ -r "$STATE_DIR/smi-mode" ] && read -r mode < "$STATE_DIR/smi-mode"
case $mode in
  driver-failed)
    echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
    exit 9 ;;
  hang) exec sleep 86400 ;;
esac

# Idle figures (what an A100 shows with no process), replaced by the simulator's state
# while its process is alive.
pid='' used=5 total=81920 util=0 temp=31 power=58.43 procmem=0
if [ -r "$STATE_DIR/gpu" ]; then
  read -r s_pid s_used s_total s_util s_temp s_power s_procmem < "$STATE_DIR/gpu"
  if [ -n "$s_pid" ] && [ -d "/proc/$s_pid" ]; then
    pid=$s_pid used=$s_used total=$s_total util=$s_util temp=$s_temp power=$s_power procmem=$s_procmem
  fi
fi
free=$((total - used))
if [ "$mode" = na ]; then used='[N/A]' free='[N/A]' util='[N/A]' power='[N/A]' procmem='[N/A]'; fi

usage() {
  echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help."
  exit 2
}

query='' kind='' header=1 units=1
for arg in "$@"; do
  case $arg in
    --query-gpu=*) kind=gpu query=${arg#*=} ;;
    --query-compute-apps=*) kind=apps query=${arg#*=} ;;
    --format=*)
      old_ifs=$IFS
      IFS=,
      for f in ${arg#*=}; do
        case $f in
          csv) ;;
          noheader) header=0 ;;
          nounits) units=0 ;;
          *) usage ;;
        esac
      done
      IFS=$old_ifs ;;
    -L|--list-gpus) echo "GPU 0: $NAME (UUID: $UUID)"; exit 0 ;;
    -i|--id=*|-i0|0) ;;
    *) usage ;;
  esac
done

# unit VALUE UNIT: sets v to the value with its unit, unless nounits or [N/A]. Helpers set
# variables instead of printing, so a query costs no subshells.
unit() {
  if [ "$units" = 1 ] && [ "$1" != '[N/A]' ]; then v="$1 $2"; else v=$1; fi
}

# gpu_field NAME: sets h (header) and v (value) for one GPU query field.
gpu_field() {
  case $1 in
    index) h=index v=0 ;;
    name|gpu_name) h=name v=$NAME ;;
    uuid|gpu_uuid) h=uuid v=$UUID ;;
    pci.bus_id) h=pci.bus_id v=$BUS ;;
    count) h=count v=1 ;;
    driver_version) h=driver_version v=535.183.01 ;;
    memory.used) h='memory.used [MiB]'; unit "$used" MiB ;;
    memory.total) h='memory.total [MiB]'; unit "$total" MiB ;;
    memory.free) h='memory.free [MiB]'; unit "$free" MiB ;;
    utilization.gpu) h='utilization.gpu [%]'; unit "$util" % ;;
    temperature.gpu) h=temperature.gpu v=$temp ;;
    power.draw) h='power.draw [W]'; unit "$power" W ;;
    power.limit) h='power.limit [W]'; unit 400.00 W ;;
    *) echo "Field \"$1\" is not a valid field to query." >&2; exit 2 ;;
  esac
}

app_field() {
  case $1 in
    pid) h=pid v=$pid ;;
    used_memory|used_gpu_memory) h='used_gpu_memory [MiB]'; unit "$procmem" MiB ;;
    process_name|name) h=process_name v=python ;;
    gpu_uuid) h=gpu_uuid v=$UUID ;;
    gpu_bus_id) h=gpu_bus_id v=$BUS ;;
    *) echo "Field \"$1\" is not a valid field to query." >&2; exit 2 ;;
  esac
}

# csv_row FIELD_FN [header-only]: prints the header (unless noheader) and one row.
csv_row() {
  heads='' row=''
  old_ifs=$IFS
  IFS=,
  for name in $query; do
    IFS=$old_ifs
    $1 "$name"
    heads="$heads${heads:+, }$h"
    row="$row${row:+, }$v"
    IFS=,
  done
  IFS=$old_ifs
  [ "$header" = 1 ] && echo "$heads"
  [ "$2" = header-only ] || echo "$row"
}

case $kind in
  gpu) csv_row gpu_field; exit 0 ;;
  apps)
    if [ -z "$pid" ]; then
      csv_row app_field header-only
      exit 0
    fi
    csv_row app_field; exit 0 ;;
esac

# No arguments: the summary table (535 layout, one GPU).
[ "$mode" = na ] && used=0
printf '%s\n' "$(date '+%a %b %e %H:%M:%S %Y')"
echo '+---------------------------------------------------------------------------------------+'
echo '| NVIDIA-SMI 535.183.01             Driver Version: 535.183.01   CUDA Version: 12.2     |'
echo '|-----------------------------------------+----------------------+----------------------+'
echo '| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |'
echo '| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |'
echo '|=========================================+======================+======================|'
printf '|   0  %-29s  On  | %s Off |                    0 |\n' "$NAME" "$BUS"
printf '| N/A   %2sC    P0%17s / 400W | %9s / %sMiB | %6s%%      Default |\n' \
  "$temp" "${power%.*}W" "${used}MiB" "$total" "$util"
echo '+-----------------------------------------+----------------------+----------------------+'
echo ''
echo '+---------------------------------------------------------------------------------------+'
echo '| Processes:                                                                            |'
echo '|  GPU   GI   CI        PID   Type   Process name                            GPU Memory |'
echo '|        ID   ID                                                             Usage      |'
echo '|=======================================================================================|'
if [ -n "$pid" ]; then
  printf '|    0   N/A  N/A  %10s      C   %-38s %9s |\n' "$pid" python "${procmem}MiB"
else
  echo '|  No running processes found                                                           |'
fi
echo '+---------------------------------------------------------------------------------------+'
