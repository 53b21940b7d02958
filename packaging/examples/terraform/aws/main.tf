# An EC2 instance that becomes the RAM OS named by var.manifest: stock Debian 12, whose cloud-init runs the
# user-data script (the README's one-liner) on first boot. bootrino reads the instance's SSH key from the
# metadata service (IMDSv2, required below) for the RAM OS.
#   terraform init && terraform apply -var 'manifest=https://…/bootrino.sh#sha256=…' -var 'key_name=mykey'

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

variable "architecture" {
  description = "x86_64 or arm64 (Graviton); bootrino ships for both"
  type        = string
  default     = "x86_64"
}

variable "instance_type" {
  description = "Enough memory for the RAM OS and its payload"
  type        = string
  default     = "t3.small"
}

variable "key_name" {
  description = "An EC2 key pair: its public key is put into the RAM OS for root"
  type        = string
  default     = null
}

provider "aws" {
  region = var.region
}

# Debian's official images (account 136693071363).
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-${var.architecture == "arm64" ? "arm64" : "amd64"}-*"]
  }

  filter {
    name   = "architecture"
    values = [var.architecture]
  }
}

resource "aws_instance" "ram_os" {
  ami           = data.aws_ami.debian.id
  instance_type = var.instance_type
  key_name      = var.key_name

  # The one-liner, from bootrino.tf.
  user_data                   = local.bootrino_user_data
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tags = {
    Name = "bootrino-ram-os"
  }
}

output "public_ip" {
  value = aws_instance.ram_os.public_ip
}
