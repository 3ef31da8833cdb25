# The one definition of the production build (the image's binary), sourced by scripts/build-image
# and scripts/check-production-build so both use the same flags and share one scratch folder:
# release, the Swift runtime linked statically, no Simulator trait, and the checkout's path
# mapped to /longhorn-dr in every compiled file name (Swift, C and C++), so the binary, and with
# it the image, does not depend on where the repository was cloned.
# Sets: production_scratch, production_build_args (for `swift build`), production_binary.
production_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
production_scratch="$production_root/.build-image"
production_build_args=(
  -c release --static-swift-stdlib --disable-default-traits --product longhorn-dr --scratch-path "$production_scratch"
  -Xswiftc -file-prefix-map -Xswiftc "$production_root=/longhorn-dr"
  -Xcc "-ffile-prefix-map=$production_root=/longhorn-dr" -Xcxx "-ffile-prefix-map=$production_root=/longhorn-dr"
)
production_binary="$production_scratch/release/longhorn-dr"
