import Foundation

/// A kubeconfig that came from somewhere other than the operator's own files (an SSM parameter,
/// a command's output). Whoever can write that parameter must not be able to run commands or
/// read files on the operator's machine through it: an `exec` plugin runs a program, and
/// `tokenFile`, `client-certificate`, `client-key` and `certificate-authority` read local files.
/// So those are refused, except exec plugins whose program the operator allowed by name (an EKS
/// kubeconfig's `aws`, say).
public enum FetchedKubeconfig {
    /// Parses `bytes` with the client's own model and returns it, or throws naming every refused
    /// entry (never the content, which holds credentials).
    public static func check(_ bytes: Data, origin: String, allowExec: [String]) throws(KubeconfigError) -> Kubeconfig {
        let loader = KubeconfigLoader(
            environment: KubeconfigEnvironment(
                variables: [:], homeDirectory: nil, currentDirectory: "/", readFile: { _ in bytes }))
        let parsed: Kubeconfig?
        do {
            parsed = try loader.readKubeconfig(at: "/fetched")
        } catch let error as KubeconfigError {
            throw KubeconfigError(code: .invalidKubeconfig, subject: origin, detail: "does not hold a kubeconfig: \(error.detail)")
        } catch {
            throw KubeconfigError(code: .invalidKubeconfig, subject: origin, detail: "does not hold a kubeconfig")
        }
        guard let config = parsed, !config.clusters.isEmpty, !config.contexts.isEmpty else {
            throw KubeconfigError(code: .invalidKubeconfig, subject: origin, detail: "does not hold a kubeconfig: it defines no cluster or no context")
        }
        let refused = problems(config, allowExec: allowExec)
        guard refused.isEmpty else {
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: origin,
                detail: "refused: a fetched kubeconfig may not run programs or read files on this machine: " + refused.joined(separator: "; "),
                hint:
                    "embed credentials and CA as *-data fields; to let a known exec plugin run, allow its program by name (cluster.kubeconfig.allowExec, or --allow-exec)"
            )
        }
        return config
    }

    /// Every exec plugin not allowed by name and every local file reference, by user or cluster name.
    public static func problems(_ config: Kubeconfig, allowExec: [String]) -> [String] {
        var problems: [String] = []
        for user in config.users {
            let auth = user.user
            if let exec = auth.exec {
                let program = (exec.command as NSString).lastPathComponent
                if !allowExec.contains(program) { problems.append("user \(user.name) runs exec plugin \(program)") }
            }
            if auth.authProvider != nil { problems.append("user \(user.name) uses an auth-provider") }
            for (field, value) in [("tokenFile", auth.tokenFile), ("client-certificate", auth.clientCertificate), ("client-key", auth.clientKey)]
            where value != nil {
                problems.append("user \(user.name) reads \(field) from a local file")
            }
        }
        for cluster in config.clusters where cluster.cluster.certificateAuthority != nil {
            problems.append("cluster \(cluster.name) reads certificate-authority from a local file")
        }
        return problems
    }
}
