import Foundation
import ProcessRunner

#if canImport(Glibc)
    import Glibc
#endif

/// How the simulated kubelet isolates a container's mounts, chosen once per process from what
/// this machine allows: as root, a private mount namespace with each volume bound at its mount
/// path; as an ordinary user, a user namespace (mapped to root inside) with a private mount
/// namespace and a fresh root folder mirroring the host's, so mount paths like `/data` can be
/// made without touching the host. Either way the processes run with the caller's own rights on
/// the host.
public enum PodSandbox: Sendable, Equatable, CustomStringConvertible {
    case rootMountNamespace
    case userNamespace

    public var description: String {
        switch self {
        case .rootMountNamespace: "as root in private mount namespaces"
        case .userNamespace: "rootless, in user and mount namespaces (uid \(geteuid()) on the host)"
        }
    }

    /// Set to `off` to forbid user namespaces (to check how the tool fails where they are disabled).
    public static let switchVariable = "LONGHORN_DR_SIM_USERNS"

    /// What this process can use, detected once.
    public static let current: Result<PodSandbox, ContainerRuntimeError> = detect(environment: ProcessInfo.processInfo.environment)

    static func detect(environment: [String: String]) -> Result<PodSandbox, ContainerRuntimeError> {
        guard let unshare = unsharePath else {
            return .failure(
                ContainerRuntimeError(
                    message:
                        "the simulated kubelet needs util-linux `unshare` to run pod commands, and it is not in /usr/bin or /bin; install util-linux (Debian: apt-get install util-linux)"
                ))
        }
        if geteuid() == 0 { return .success(.rootMountNamespace) }
        if environment[switchVariable] == "off" {
            return .failure(
                ContainerRuntimeError(
                    message:
                        "user namespaces are switched off for this process (\(switchVariable)=off), and it does not run as root; the simulated kubelet needs one of them to run pod commands"
                ))
        }
        let limit = (try? String(contentsOfFile: "/proc/sys/user/max_user_namespaces", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if limit == "0" {
            return .failure(
                ContainerRuntimeError(
                    message:
                        "unprivileged user namespaces are disabled on this machine (/proc/sys/user/max_user_namespaces is 0), and this process is not root; allow them (sysctl -w user.max_user_namespaces=15000) or run as root"
                ))
        }
        guard ProcessRunner.statusBlocking(unshare, ["--user", "--map-root-user", "--mount", "true"]) == 0 else {
            return .failure(
                ContainerRuntimeError(
                    message:
                        "this machine refuses unprivileged user namespaces to this process (`unshare --user --map-root-user --mount true` failed); on Ubuntu 24.04+ AppArmor restricts them (sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile allowing userns for this binary), elsewhere check user.max_user_namespaces; or run as root"
                ))
        }
        return .success(.userNamespace)
    }

    static let unsharePath: String? = ["/usr/bin/unshare", "/bin/unshare", "/usr/sbin/unshare"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The `unshare` arguments before the helper, for this sandbox.
    var unshareArguments: [String] {
        switch self {
        case .rootMountNamespace: ["--mount", "--propagation", "private", "--"]
        case .userNamespace: ["--user", "--map-root-user", "--mount", "--propagation", "private", "--"]
        }
    }
}
