// Package services holds the services of this module; each main package lives under api/services/.
package services
