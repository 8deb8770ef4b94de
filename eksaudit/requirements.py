"""The practices of the requirements document, paraphrased, each with a stable ID for coverage tables."""

from __future__ import annotations

PRACTICES: list[tuple[str, str, str]] = [
    # (id, group, practice in our words)
    ("R-IAM-1", "IAM", "Give people and systems only the IAM permissions they need to use and manage EKS."),
    ("R-IAM-2", "IAM", "Manage EKS across accounts with temporary credentials from role assumption, not long-lived keys."),
    ("R-IAM-3", "IAM", "Let EKS act through service roles it assumes, scoped to what the service needs."),
    ("R-IAM-4", "IAM", "Do not authenticate with Kubernetes service account tokens."),
    ("R-IAM-5", "IAM", "Give every new EKS cluster its own IAM role."),
    ("R-IAM-6", "IAM", "Give every new application its own service account."),
    ("R-IAM-7", "IAM", "Run applications as a non-root user."),
    ("R-IAM-8", "IAM", "Control access to EBS, EFS and FSx from EKS through IAM roles."),
    ("R-IAM-9", "IAM", "Require MFA for console users who perform privileged actions such as managing EKS."),
    ("R-IAM-10", "IAM", "Keep images in ECR and grant only the ECR permissions that are needed."),
    ("R-NET-1", "Network", "Call the EKS API over TLS 1.2 or later."),
    ("R-NET-2", "Network", "Use TLS 1.2 or later on the ALB/NLB in front of EKS workloads."),
    ("R-NET-3", "Network", "Use TLS 1.2 or later between the control plane and the worker nodes."),
    ("R-NET-4", "Network", "Restrict access to the EKS interface VPC endpoint with security groups."),
    ("R-NET-5", "Network", "Restrict traffic between the control plane and worker nodes with security groups."),
    ("R-NET-6", "Network", "Protect access to pods with security groups (or network policies)."),
    ("R-NET-7", "Network", "Turn off public access to the EKS API server; reach it through a bastion or VPN."),
    ("R-NET-8", "Network", "Reach Secrets Manager through a VPC endpoint guarded by security groups."),
    ("R-NET-9", "Network", "Encrypt container images in ECR with KMS."),
    ("R-NET-10", "Network", "For sensitive environments, encrypt ECR images with a customer-managed KMS key."),
    ("R-NET-11", "Network", "Reach ECR through interface VPC endpoints guarded by security groups."),
    ("R-NET-12", "Network", "Envelope-encrypt Kubernetes secrets with a KMS key (beyond the document: CIS EKS 5.3.1)."),
    ("R-LOG-1", "Auditing and monitoring", "Send EKS control-plane logs (API, audit, authenticator) to CloudWatch."),
    ("R-LOG-2", "Auditing and monitoring", "Record every action on EKS with CloudTrail."),
    ("R-LOG-3", "Auditing and monitoring",
     "Let as few people as possible read or change CloudTrail logs, ideally in a separate management account."),
    ("R-IMG-1", "Compliance", "Run only trusted images, kept in a private ECR registry."),
    ("R-IMG-2", "Compliance", "Run kube-bench (CIS Kubernetes/EKS benchmark) regularly."),
    ("R-IMG-3", "Compliance", "Run Docker Bench for Security (CIS Docker benchmark) regularly."),
    ("R-IMG-4", "Compliance", "Build images from scratch or trusted bases, not unvetted third-party images."),
    ("R-IMG-5", "Compliance", "Scan images for vulnerabilities and rebuild them regularly."),
    ("R-IMG-6", "Compliance", "Give containers a read-only root filesystem."),
]
