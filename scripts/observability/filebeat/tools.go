//go:build tools

package tools

import _ "github.com/elastic/beats/v7/filebeat"
