#!/usr/bin/env sh
# Install ctxchat as an app, pipx-style: its own virtual environment (isolated from your
# other Python packages) and one `ctxchat` command linked into a bin folder on your PATH.
#
#   sh packaging/install.sh                 install from this checkout
#   sh packaging/install.sh --from dist/ctxchat-0.1.0-py3-none-any.whl
#   sh packaging/install.sh --cpu           CPU-only torch (a much smaller download)
#   sh packaging/install.sh --uninstall
#
# Options: --python PY (default python3), --venv DIR (default
# ~/.local/share/ctxchat/venv), --bin-dir DIR (default ~/.local/bin), --from SOURCE
# (a checkout, wheel or sdist; default: the checkout this script is in), --cpu,
# --uninstall, --help. Environment: CTXCHAT_VENV and CTXCHAT_BIN_DIR set the defaults.
set -eu

script_dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
python=${PYTHON:-python3}
venv=${CTXCHAT_VENV:-"$HOME/.local/share/ctxchat/venv"}
bin_dir=${CTXCHAT_BIN_DIR:-"$HOME/.local/bin"}
source=$(dirname -- "$script_dir")
cpu=0
uninstall=0

die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --python) [ $# -ge 2 ] || die "--python needs a value"; python=$2; shift 2 ;;
        --venv) [ $# -ge 2 ] || die "--venv needs a value"; venv=$2; shift 2 ;;
        --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a value"; bin_dir=$2; shift 2 ;;
        --from) [ $# -ge 2 ] || die "--from needs a value"; source=$2; shift 2 ;;
        --cpu) cpu=1; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

if [ "$uninstall" = 1 ]; then
    # Remove only what this script made: the link (if it points into our venv) and the venv.
    link="$bin_dir/ctxchat"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$venv/bin/ctxchat" ]; then
        rm -f "$link"
    fi
    rm -rf "$venv"
    echo "ctxchat uninstalled (your library in the ctxchat data dir was kept)"
    exit 0
fi

command -v "$python" >/dev/null 2>&1 || die "$python not found: install Python 3.10 or newer"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "ctxchat needs Python 3.10 or newer ($python is $("$python" -V 2>&1))"
[ -e "$source" ] || die "nothing to install at $source"

echo "creating $venv"
"$python" -m venv --clear "$venv" || die "could not create a virtual environment (on Debian/Ubuntu: apt install python3-venv)"
pip="$venv/bin/python -m pip"
$pip install --quiet --upgrade pip wheel setuptools
if [ "$cpu" = 1 ]; then
    echo "installing the CPU build of torch"
    $pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
fi
# llama-cpp-python compiles llama.cpp on platforms without a prebuilt wheel: minutes, once.
echo "installing ctxchat from $source (llama-cpp-python may take a few minutes to compile)"
$pip install --quiet "$source"

mkdir -p "$bin_dir"
ln -sf "$venv/bin/ctxchat" "$bin_dir/ctxchat"
"$bin_dir/ctxchat" --version >/dev/null || die "the installed ctxchat does not start"
echo "installed: $bin_dir/ctxchat ($("$bin_dir/ctxchat" --version))"
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "note: add $bin_dir to your PATH, e.g. echo 'export PATH=\"$bin_dir:\$PATH\"' >> ~/.profile" ;;
esac
echo "check the install with: ctxchat doctor"
