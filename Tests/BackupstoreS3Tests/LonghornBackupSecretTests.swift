import AWS
import BackupstoreS3
import Foundation
import Testing

@Suite("LonghornBackupSecret")
struct LonghornBackupSecretTests {
    @Test("reads every Longhorn key, trimming the newline echo leaves")
    func readsKeys() throws {
        let secret = try LonghornBackupSecret(
            name: "longhorn-system/minio",
            data: [
                "AWS_ACCESS_KEY_ID": Data("minio\n".utf8),
                "AWS_SECRET_ACCESS_KEY": Data("minio123\n".utf8),
                "AWS_SESSION_TOKEN": Data("tok".utf8),
                "AWS_ENDPOINTS": Data("http://minio.minio.svc:9000\n".utf8),
                "AWS_CERT": Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8),
                "VIRTUAL_HOSTED_STYLE": Data("false".utf8),
            ]
        )
        let credentials = try secret.credentials()
        #expect(credentials.accessKeyID == "minio")
        #expect(credentials.secretAccessKey == "minio123")
        #expect(credentials.sessionToken == "tok")
        #expect(secret.endpoint == "http://minio.minio.svc:9000")
        #expect(secret.certificatePEM?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
        #expect(secret.virtualHostedStyle == "false")
    }

    @Test("a non-UTF-8 value is rejected, naming the key")
    func binaryValue() {
        let error = #expect(throws: AWSError.self) {
            try LonghornBackupSecret(name: "ns/s", data: ["AWS_ACCESS_KEY_ID": Data([0xFF, 0xFE])])
        }
        #expect(error?.code == .invalidSecret)
        #expect(error?.description.contains("AWS_ACCESS_KEY_ID") == true)
    }

    @Test("a Secret as the API sends it: base64 decoded, a damaged value refused (not left out), naming the key")
    func base64Data() throws {
        let secret = try LonghornBackupSecret(
            name: "ns/s",
            base64Data: [
                "AWS_ACCESS_KEY_ID": Data("AKIAVALUE\n".utf8).base64EncodedString(), "AWS_SECRET_ACCESS_KEY": Data("verysecret".utf8).base64EncodedString(),
            ])
        #expect(try secret.credentials().accessKeyID == "AKIAVALUE")
        let error = #expect(throws: AWSError.self) {
            try LonghornBackupSecret(name: "ns/s", base64Data: ["AWS_ACCESS_KEY_ID": "QUtJQV", "AWS_SECRET_ACCESS_KEY": "not base64!"])
        }
        #expect(error?.code == .invalidSecret)
        #expect(error?.description.contains("AWS_SECRET_ACCESS_KEY") == true || error?.description.contains("AWS_ACCESS_KEY_ID") == true)
        #expect(error?.description.contains("not base64!") == false, "values are never echoed")
    }

    @Test("half a key pair names the missing key")
    func halfPair() {
        let secret = LonghornBackupSecret(name: "ns/s", stringData: ["AWS_SECRET_ACCESS_KEY": "x"])
        let error = #expect(throws: AWSError.self) { try secret.credentials() }
        #expect(error?.code == .incompleteCredentials)
        #expect(error?.description.contains("AWS_ACCESS_KEY_ID is missing") == true)
    }

    @Test("S3 addressing built from a Longhorn Secret")
    func fromSecret() throws {
        let secret = LonghornBackupSecret(
            name: "longhorn-system/minio",
            stringData: ["AWS_ENDPOINTS": "https://minio.example:9000", "VIRTUAL_HOSTED_STYLE": "true"]
        )
        let addressing = try S3Addressing(region: "us-east-1", secret: secret)
        #expect(addressing.isCustomEndpoint)
        #expect(addressing.style(for: "backups") == .virtualHosted)
        #expect(addressing.port == 9000)
    }

    @Test func aLonghornSecretShowsKeyNamesOnly() {
        let secret = LonghornBackupSecret(
            name: "longhorn-system/s3", stringData: ["AWS_ACCESS_KEY_ID": "AKIAVALUE", "AWS_SECRET_ACCESS_KEY": "verysecretvalue"])
        var dumped = ""
        dump(secret, to: &dumped)
        for text in ["\(secret)", String(reflecting: secret), dumped] {
            #expect(!text.contains("verysecretvalue") && !text.contains("AKIAVALUE"), "\(text)")
            #expect(text.contains("AWS_SECRET_ACCESS_KEY"))
        }
    }

    @Test("a Secret as a source of the credential chain, tried where it is listed")
    func secretAsChainSource() throws {
        let secret = LonghornBackupSecret(
            name: "longhorn-system/s3-secret",
            stringData: ["AWS_ACCESS_KEY_ID": "AKIASECRET\n", "AWS_SECRET_ACCESS_KEY": "secretFromSecret\n"])
        let chain = AWSCredentialChain(
            environment: .inMemory(variables: ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envSecret"], files: [:]),
            sources: [.provider(secret), .environment])
        let credentials = try chain.resolveCredentials()
        #expect(credentials.accessKeyID == "AKIASECRET" && credentials.secretAccessKey == "secretFromSecret")
        #expect(credentials.source == "Secret longhorn-system/s3-secret")
        let roleOnly = LonghornBackupSecret(name: "longhorn-system/role-only", stringData: ["AWS_IAM_ROLE_ARN": "arn:aws:iam::1:role/x"])
        let error = #expect(throws: AWSError.self) {
            try AWSCredentialChain(environment: .inMemory(variables: [:], files: [:]), sources: [.provider(roleOnly)]).resolveCredentials()
        }
        #expect(error?.description.contains("Secret longhorn-system/role-only: has neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY") == true)
    }

    @Test("a Longhorn Secret's description lists keys, not values")
    func secretDescription() {
        let secret = LonghornBackupSecret(
            name: "longhorn-system/s3",
            stringData: ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "the-secret-value"]
        )
        #expect(secret.description == "Secret longhorn-system/s3 (keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
    }
}
